/*
 * Errors are discriminated by who got something wrong:
 *   ConfigError      the user: a bad flag, a missing file, too little memory
 *   GuestImageError  the image: a truncated or foreign ELF, a segment outside RAM
 *   DeviceError      the guest, through a device: the device resets, the machine lives
 * Anything else is a bug in popek and keeps its stack trace.
 */

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

export class GuestImageError extends Error {
  override readonly name = "GuestImageError";
}

export class DeviceError extends Error {
  override readonly name = "DeviceError";
}

/** True for errors whose message is the whole story for a CLI user. */
export function isUserFacing(e: unknown): e is ConfigError | GuestImageError | DeviceError {
  return e instanceof ConfigError || e instanceof GuestImageError || e instanceof DeviceError;
}
