// `mpcheckgen test --vm` (generator/test.ts → native-tests/vm/author.ts) in
// one run (two VMs side by side) for three specs: TUR, whose generated C has a fault seeded (an
// ioctl error other than ENOTTY reports the path UP), and readsector0 and
// directio as generated (the device scenarios of issue 11: healthy, a medium
// error through scsi_debug's error options, command timeouts, offline,
// deleted, each ALUA state on LIO; directio on the block device). Each scenario prints
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
			specs: ["specs/tur.ts", "specs/readsector0.ts", "specs/directio.ts"],
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
		for (const c of ["tur", "readsector0", "directio"]) {
			for (const s of ["healthy", ...(c === "directio" ? [] : ["not ready"]), "medium error", "offline", "deleted", "command timeouts", "LIO ALUA states"]) {
				expect(text).toMatch(new RegExp(`^vm: ${c}: ${s}$`, "m"));
			}
		}
		// what each checker showed, scenario by scenario (printed for the report)
		console.log(lines.filter((l) => l.startsWith("vm: ") || l.startsWith("  ")).join("\n"));
		const section = (c: string) => text.slice(text.indexOf(`vm: ${c}: healthy`), c === "directio" ? undefined : text.indexOf("vm: ", text.indexOf(`vm: ${c}: LIO ALUA states`) + 1));
		for (const c of ["readsector0", "directio"]) {
			const t = section(c);
			const how = c === "directio" ? "the read fails \\(EIO\\)" : "READ gets MEDIUM ERROR 03/11/00";
			expect(t).toMatch(/^ {2}a fresh scsi_debug LUN \(power-on unit attention pending\): up ×4$/m);
			expect(t).toMatch(new RegExp(`^ {2}a scsi_debug LUN with a medium error on its first 64 blocks \\(opts=2\\): down ×3 \\(as expected: medium error: ${how} → spec: down\\)$`, "m"));
			expect(t).toMatch(
				c === "directio"
					? /^ {2}the LUN set offline while the checker holds it open: down ×\d+ \(as expected: offline: .* → spec: down\)$/m
					: /^ {2}a scsi_debug LUN set offline: down ×3 \(as expected: offline: .* → spec: down\)$/m,
			);
			expect(t).toMatch(/^ {2}the LUN deleted while the checker holds it open: down ×\d+ \(as expected: deleted: .* → spec: down\)$/m);
			expect(t).toMatch(/^ {2}the LUN ignoring every command \(opts=4\), checker timeout 1 s: timeout ×\d+ \(as expected: no answer within the checker timeout → framework: timeout\)$/m);
			expect(t).toContain("  an LIO LUN, its target port group active/optimized (0): up ×3");
			expect(t).not.toContain(" — FAIL");
			expect(t).not.toContain(" — FAILED");
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
