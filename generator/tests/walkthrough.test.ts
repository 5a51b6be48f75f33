// README's "Write your own checker", as a newcomer follows it: the commands
// of its walkthrough block (the ```sh block after <!-- walkthrough -->),
// exactly as written, run by bash -e in a temporary directory outside the
// repository, with $MPCHECKGEN at this checkout, $LIBDIR at Debian 12's
// multipath-tools libraries (downloaded and extracted, never installed) and
// $DESTDIR at a staging root. Then: each output the block's comments claim
// was printed, and the installed plugin loads against Debian's libraries
// with RTLD_NOW, a 0.9.4 plugin (libcheck_check, init, free; its messages).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { dlcheck, ensureDebianBinaries } from "../../native-tests/tree/index.ts";

const ROOT = resolve(import.meta.dirname, "../..");

/** The walkthrough block of README.md. */
export function walkthroughBlock(readme: string): string {
	const at = readme.indexOf("<!-- walkthrough -->");
	if (at < 0) throw new Error("README.md has no <!-- walkthrough --> block");
	const m = /^```sh\n([\s\S]*?)^```$/m.exec(readme.slice(at));
	if (!m) throw new Error("README.md: no ```sh block after <!-- walkthrough -->");
	return m[1];
}

const dir = mkdtempSync(join(tmpdir(), "mpcg-walkthrough-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("README's walkthrough, outside the repository", () => {
	const script = walkthroughBlock(readFileSync(join(ROOT, "README.md"), "utf8"));
	it("the block takes a checker from `new` to an installed plugin", () => {
		for (const step of ["mpcheckgen.js\" new ", "npm install", "sed -i", "mpcheckgen validate", "mpcheckgen generate", "mpcheckgen test", "cc ", "install "]) {
			expect(script, step).toContain(step);
		}
	});
	it("every command runs, and prints what its comment says", async () => {
		const deb = await ensureDebianBinaries("0.9.4");
		const destdir = join(dir, "root");
		const r = spawnSync("bash", ["-e", "-c", script], {
			cwd: dir,
			encoding: "utf8",
			env: { ...process.env, MPCHECKGEN: ROOT, LIBDIR: deb.libDir, DESTDIR: destdir, npm_config_offline: "true" },
			maxBuffer: 64 << 20,
		});
		expect(r.error).toBeUndefined();
		expect(`exit ${r.status}\n${r.stderr.slice(-3000)}`).toMatch(/^exit 0\n/);
		// the claims of the comments that quote output
		expect(r.stdout).toContain("specs/mine.ts: ok (checker mine: 1 state, 6 rules, 1 messages)");
		expect(r.stdout).toMatch(/^mpcheckgen test: \d+ checks, all as expected/m);
		expect(r.stdout).toContain("specs/mine.ts: 6 examples through the interpreter, 6 as expected");
		for (const b of ["clang", "gcc", "gcc ASan"]) expect(r.stdout).toContain(`specs/mine.ts: ${b}: 6 examples through the C, 6 as expected`);
		expect(r.stderr).toContain("mpcheckgen test: gcc ASan: building"); // progress
		for (const t of ["0.9", "0.15"]) expect(existsSync(join(dir, "mine/generated", t, "libmultipath/checkers/mine.c")), t).toBe(true);
		// the edit took: five attempts in all
		expect(readFileSync(join(dir, "mine/specs/mine.ts"), "utf8")).toContain("maxRetries: 4");
		const plugin = join(destdir, "lib/multipath/libcheckmine.so");
		const d = dlcheck(plugin, { libDirs: [deb.libDir] });
		expect(d.error).toBeUndefined();
		expect(d.loaded).toBe(true);
		expect(d.defined).toEqual(expect.arrayContaining(["libcheck_check", "libcheck_init", "libcheck_free"]));
		expect(d.foreign).toEqual([]);
		expect(d.msgtable).toContain(" reports path is transitioning");
	});
});
