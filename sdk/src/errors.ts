/** Base class of Consentry errors: a stable machine-readable `code` and a message in words. */
export class ConsentryError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConsentryError';
    this.code = code;
  }
}

/** The configuration (environment) is invalid. */
export class ConfigError extends ConsentryError {
  constructor(message: string) {
    super('CONFIG_INVALID', message);
    this.name = 'ConfigError';
  }
}
