/** An error that the app's error handler turns into `{error: {code, message, details?}}`. */
export class HttpError extends Error {
  override readonly name = "HttpError";
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 408 | 409 | 413 | 415 | 429 | 500 | 503,
    readonly code: string,
    message: string,
    readonly details?: ReadonlyArray<{ path: string; message: string }>,
    /** Extra response headers (`Retry-After`, `Connection: close`). */
    readonly headers?: Readonly<Record<string, string>>,
  ) {
    super(message);
  }
}
