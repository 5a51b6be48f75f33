// `mpcheckgen test --vm` (generator/test.ts → native-tests/vm/author.ts) in
// one VM boot, on the TUR spec whose generated C has a fault seeded: an
// ioctl error other than ENOTTY reports the path UP. Each scenario prints
// what the checker reported; the phases whose outcome the spec fixes
// (offline: ENXIO, deleted: ENODEV) fail with the expected outcome named,
// the timeouts phase (the framework's outcome) passes, and the phases that
// depend on the device's data are shown unjudged. (The simulated-SG_IO
// part of the command catches the fault as well.)
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { testSpecs } from "../../generator/test.ts";

describe("mpcheckgen test --vm", () => {
	it("prints every scenario's outcomes and fails where the C contradicts the spec", async () => {
		const lines: string[] = [];
		const r = await testSpecs({
			specs: ["specs/tur.ts"],
			random: 20,
			seed: 1,
			vm: true,
			rerun: "mpcheckgen test specs/tur.ts --vm",
			progress: () => {},
			out: (l) => lines.push(l),
			patch: (d) => {
				const f = join(d, "libmultipath/checkers/tur.c");
				const c = readFileSync(f, "utf8");
				const guard = "\tif (ans.err != 0) {\n\t\trdata->msgid = CHECKER_MSGID_DOWN;\n\t\treturn PATH_DOWN;";
				expect(c).toContain(guard);
				writeFileSync(f, c.replace(guard, "\tif (ans.err != 0) {\n\t\trdata->msgid = CHECKER_MSGID_UP;\n\t\treturn PATH_UP;"));
			},
		});
		const text = lines.join("\n");
		for (const s of ["healthy", "not ready", "offline", "deleted", "command timeouts", "LIO ALUA states"]) {
			expect(text).toMatch(new RegExp(`^vm: ${s}$`, "m"));
		}
		expect(text).toContain("  a fresh scsi_debug LUN (power-on unit attention pending): up ×4");
		expect(text).toMatch(/^ {2}a scsi_debug LUN set offline: up ×3 — FAIL: expected down \(offline: SG_IO fails with ENXIO → spec: down\)$/m);
		expect(text).toMatch(/^ {2}the LUN deleted while the checker holds it open: up ×\d+ — FAIL: expected down/m);
		expect(text).toMatch(/^ {2}the LUN ignoring every command \(opts=4\), checker timeout 1 s: timeout ×\d+ \(as expected: no answer within the checker timeout → framework: timeout\)$/m);
		expect(text).toContain("  an LIO LUN, its target port group standby (2): ghost ×3");
		expect(text).toContain("  an LIO LUN, its target port group transitioning (15): pending (transitioning) ×3");
		// in the VM, the two phases the spec fixes; the simulated SG_IO tests catch the fault too
		expect(lines.filter((l) => l.includes(" — FAIL: "))).toHaveLength(2);
		expect(text).toMatch(/^FAIL specs\/tur\.ts, clang build: rule-derived cases: /m);
		expect(r.failures).toBeGreaterThan(2);
	});
});
