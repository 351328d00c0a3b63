// The vitest config of every package, in plain JS with its types beside it (vitest.shared.d.ts):
// each package's tsconfig has `rootDir: "."`, so a .ts file out here could not be imported there.
import { configDefaults } from "vitest/config";

/**
 * Two projects per package, run together by `vitest run` (`pnpm test`) or alone with
 * `--project unit` / `--project integration`:
 * - unit: `src/` tests, in process (fakes, `app.request()`, in-process HTTP fakes);
 * - integration: `test/` tests, which start real processes (the CLI, nats-server, sshd, chromium),
 *   and the few `src/` tests that do too (`realProcesses`).
 *
 * @param {import("./vitest.shared.d.ts").PackageTestOptions} [options]
 * @returns {import("vitest/config").ViteUserConfig}
 */
export function packageTestConfig({
  unit = ["src/**/*.test.ts"],
  integration = ["test/**/*.test.ts"],
  realProcesses = [],
  testTimeout = 60_000,
  hookTimeout = 60_000,
  serialFiles = false,
} = {}) {
  return {
    test: {
      testTimeout,
      hookTimeout,
      // `expect.poll` waits for an outcome, not for a speed: on two loaded cores a browser round
      // trip can take longer than vitest's default of one second.
      expect: { poll: { timeout: 15_000 } },
      // vitest applies this to the whole run, not to one project.
      ...(serialFiles ? { fileParallelism: false } : {}),
      projects: [
        {
          extends: true,
          test: { name: "unit", include: unit, exclude: [...configDefaults.exclude, ...realProcesses] },
        },
        { extends: true, test: { name: "integration", include: [...integration, ...realProcesses] } },
      ],
    },
  };
}
