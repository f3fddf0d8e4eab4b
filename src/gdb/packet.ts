/*
 * GDB Remote Serial Protocol framing (GDB manual, appendix E "Overview" and
 * "Binary Data"):
 *
 *   $<packet-data>#<checksum>     checksum: two hex digits, the sum of the
 *                                 data bytes modulo 256
 *   +  /  -                       acknowledgment: received / resend
 *   0x03                          outside a packet: interrupt (Ctrl-C)
 *
 * In binary data (X packets, qXfer replies) '#', '$', '}' and '*' are sent
 * as '}' followed by the byte XOR 0x20. popek never run-length encodes
 * (the '*' form) what it sends, and GDB never sends it.
 *
 * Packets travel as latin1 strings: one char per byte, so binary data and
 * the command text parse with the same string operations.
 */

/** The largest packet popek accepts (and announces as PacketSize): ample for 'G' and 'X'. */
export const MAX_PACKET = 0x4000;

const ESCAPE = 0x7d; // '}'
const INTERRUPT = 0x03;

/** The modulo-256 sum of a packet's data bytes. */
export function checksum(data: string): number {
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum = (sum + data.charCodeAt(i)) & 0xff;
  return sum;
}

/** Escapes the bytes that cannot appear bare in packet data ('#', '$', '}', '*'). */
export function escapeBinary(data: string): string {
  return data.replace(/[#$}*]/g, (c) => "}" + String.fromCharCode(c.charCodeAt(0) ^ 0x20));
}

/** Undoes escapeBinary; undefined when the data ends inside an escape. */
export function unescapeBinary(data: string): string | undefined {
  if (!data.includes("}")) return data;
  let out = "";
  for (let i = 0; i < data.length; i++) {
    const c = data.charCodeAt(i);
    if (c !== ESCAPE) out += data[i];
    else if (++i < data.length) out += String.fromCharCode(data.charCodeAt(i) ^ 0x20);
    else return undefined;
  }
  return out;
}

/** A whole packet, ready to send: `$data#cs` with data escaped. */
export function framePacket(data: string): Buffer {
  const body = escapeBinary(data);
  return Buffer.from(`$${body}#${checksum(body).toString(16).padStart(2, "0")}`, "latin1");
}

/** What the reader found in the byte stream. */
export type WireEvent =
  | { readonly kind: "packet"; readonly data: string }
  | { readonly kind: "bad-packet" }
  | { readonly kind: "ack" }
  | { readonly kind: "nak" }
  | { readonly kind: "interrupt" };

const IDLE = 0;
const DATA = 1;
const SUM_HI = 2;
const SUM_LO = 3;

/**
 * Splits the byte stream from GDB into events, across reads of any size. A
 * packet whose checksum does not match, that is not hex, or that outgrows
 * MAX_PACKET is a bad-packet (answered with '-'); stray bytes between
 * packets are ignored, and a '$' inside a packet starts a new one.
 */
export class PacketReader {
  private state = IDLE;
  private data: number[] = [];
  private sum = "";
  private overflow = false;

  /** Feeds bytes; returns the events they complete, in order. */
  feed(bytes: Uint8Array): WireEvent[] {
    const events: WireEvent[] = [];
    for (const b of bytes) {
      const event = this.byte(b);
      if (event !== undefined) events.push(event);
    }
    return events;
  }

  private byte(b: number): WireEvent | undefined {
    if (b === 0x24 /* $ */) {
      this.state = DATA;
      this.data = [];
      this.overflow = false;
      return undefined;
    }
    switch (this.state) {
      case IDLE:
        if (b === 0x2b /* + */) return { kind: "ack" };
        if (b === 0x2d /* - */) return { kind: "nak" };
        if (b === INTERRUPT) return { kind: "interrupt" };
        return undefined;
      case DATA:
        if (b === 0x23 /* # */) {
          this.state = SUM_HI;
          this.sum = "";
        } else if (this.data.length < MAX_PACKET) this.data.push(b);
        else this.overflow = true;
        return undefined;
      case SUM_HI:
        this.sum = String.fromCharCode(b);
        this.state = SUM_LO;
        return undefined;
      default: {
        this.state = IDLE;
        const text = String.fromCharCode(...this.data);
        const want = /^[0-9a-fA-F]{2}$/.test(this.sum + String.fromCharCode(b)) ? parseInt(this.sum + String.fromCharCode(b), 16) : -1;
        this.data = [];
        if (this.overflow || want !== checksum(text)) return { kind: "bad-packet" };
        return { kind: "packet", data: text };
      }
    }
  }
}

/** Bytes as lower-case hex, two digits each. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

/** Hex digits as bytes; undefined when not an even count of hex digits. */
export function fromHex(text: string): Uint8Array | undefined {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return undefined;
  return new Uint8Array(Buffer.from(text, "hex"));
}

/** A hex number (an address, a length, a register number) as a bigint; undefined when not one. */
export function parseHexBig(text: string): bigint | undefined {
  return /^[0-9a-fA-F]{1,16}$/.test(text) ? BigInt(`0x${text}`) : undefined;
}

/** A hex number that must be a small count or index (below 2^31); undefined otherwise. */
export function parseHexInt(text: string): number | undefined {
  return /^[0-9a-fA-F]{1,8}$/.test(text) && parseInt(text, 16) < 2 ** 31 ? parseInt(text, 16) : undefined;
}
