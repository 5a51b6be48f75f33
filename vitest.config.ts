import { defineConfig } from "vitest/config";

// One test command runs everything: unit tests of the generator, the native
// builds and simulated-SG_IO tables, the runner race test and the VM tests.
// Files run one at a time: the race test and the VM are timing-sensitive
// and the machines have 2 cores.
export default defineConfig({
	test: {
		include: ["generator/**/*.test.ts", "native-tests/**/*.test.ts"],
		exclude: ["**/node_modules/**", "native-tests/fixtures/**"],
		fileParallelism: false,
		globalSetup: ["native-tests/support/global-setup.ts"],
		testTimeout: 600_000,
		// tests declared concurrent all start; the race test limits how many
		// of its runs share the machine itself (runner-race.test.ts)
		maxConcurrency: 32,
		hookTimeout: 900_000,
		reporters: ["default"],
		typecheck: {
			enabled: true,
			include: ["generator/**/*.test-d.ts"],
			tsconfig: "./tsconfig.json",
		},
	},
});
