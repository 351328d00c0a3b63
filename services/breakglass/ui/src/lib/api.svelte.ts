import { errorOf } from "./errors.js";

const TOKEN_KEY = "breakglass.token";

/** An API answer that is not a success, with the server's error code. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The server wants credentials the UI does not have: ask for a bearer token. */
export class AuthRequired extends ApiError {}

function storage(): Storage | undefined {
  try {
    return sessionStorage;
  } catch {
    return undefined;
  }
}

/**
 * `fetch` for the API. Behind Authentik the proxy authenticates every request and the token is
 * never needed; otherwise a 401 asks for a bearer token, kept in this tab only (sessionStorage).
 */
export class Api {
  token = $state<string | null>(storage()?.getItem(TOKEN_KEY) ?? null);
  needToken = $state(false);
  tokenRefused = $state(false);
  /** Bumped when a token is entered: views reload what failed. */
  generation = $state(0);

  async raw(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.token) headers.set("authorization", `Bearer ${this.token}`);
    if (init.body !== undefined) headers.set("content-type", "application/json");
    const res = await fetch(path, { ...init, headers, cache: "no-store" });
    if (res.status === 401) {
      this.tokenRefused = this.token !== null;
      this.needToken = true;
      throw new AuthRequired(401, "unauthorized", "This server needs an access token.");
    }
    return res;
  }

  /** A JSON answer, or an `ApiError` carrying the server's error envelope `{ error, detail }`. */
  async json<T>(path: string, init: RequestInit = {}): Promise<T> {
    const res = await this.raw(path, init);
    const text = await res.text();
    let body: unknown;
    try {
      body = text.trim() === "" ? undefined : JSON.parse(text);
    } catch {
      throw new ApiError(res.status, "bad_response", `Unexpected answer (HTTP ${res.status}).`);
    }
    const error = errorOf(body);
    if (!res.ok || error) {
      throw new ApiError(res.status, error?.error ?? "http_error", error?.detail || `HTTP ${res.status}`);
    }
    return body as T;
  }

  setToken(token: string): void {
    this.token = token.trim();
    storage()?.setItem(TOKEN_KEY, this.token);
    this.needToken = false;
    this.tokenRefused = false;
    this.generation++;
  }
}

export function messageOf(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof TypeError) return "The connection failed. Check the network and try again.";
  return err instanceof Error ? err.message : String(err);
}
