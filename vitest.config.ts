import { defineConfig } from "vitest/config";

// One test command runs everything: unit tests of the generator, the native
// builds and simulated-SG_IO tables, the runner race test and the VM tests.
// Two groups, one after the other (the machines have 2 cores):
// - "builds": the generator's tests, the simulated-SG_IO tables, the spin
//   models, the C quality checks and the real-tree builds, two files at a
//   time (they compile and compute; none depends on timing);
// - "timing": the VMs (each test boots up to two, one core each), the
//   runner race and forced-interleaving tests, the checker host's timeout
//   and stall tests and the benchmark programs' tests, one file at a time
//   and with nothing else running, since they measure time or race threads.
const TIMING = ["native-tests/vm/**/*.test.ts", "native-tests/runner/**/*.test.ts", "native-tests/host/**/*.test.ts", "native-tests/bench/**/*.test.ts"];
const EXCLUDE = ["**/node_modules/**", "native-tests/fixtures/**"];

const common = {
	testTimeout: 600_000,
	hookTimeout: 900_000,
	// tests declared concurrent all start; the race test limits how many
	// of its runs share the machine itself (runner-race.test.ts)
	maxConcurrency: 32,
};

export default defineConfig({
	test: {
		globalSetup: ["native-tests/support/global-setup.ts"],
		reporters: ["default"],
		projects: [
			{
				test: {
					...common,
					name: "builds",
					include: ["generator/**/*.test.ts", "native-tests/**/*.test.ts"],
					exclude: [...EXCLUDE, ...TIMING],
					maxWorkers: 2,
					sequence: { groupOrder: 0 },
					typecheck: {
						enabled: true,
						include: ["generator/**/*.test-d.ts"],
						tsconfig: "./tsconfig.json",
					},
				},
			},
			{
				test: {
					...common,
					name: "timing",
					include: TIMING,
					exclude: EXCLUDE,
					fileParallelism: false,
					sequence: { groupOrder: 1 },
				},
			},
		],
	},
});
