import type { ViteUserConfig } from "vitest/config";

export interface PackageTestOptions {
  /** Globs of the in-process tests (default `src/**\/*.test.ts`). */
  unit?: string[];
  /** Globs of the tests that start real processes (default `test/**\/*.test.ts`). */
  integration?: string[];
  /** `src/` tests that start real processes (git, nats-server): they run with the integration tests. */
  realProcesses?: string[];
  /** Per test, in ms (default 60 s: a real CLI turn against the stub takes seconds). */
  testTimeout?: number;
  /** Per hook, in ms (default 60 s). */
  hookTimeout?: number;
  /**
   * One test file at a time: services' integration tests start real CLIs, nats-servers and
   * executors, and this machine has two cores.
   */
  serialFiles?: boolean;
}

export declare function packageTestConfig(options?: PackageTestOptions): ViteUserConfig;
