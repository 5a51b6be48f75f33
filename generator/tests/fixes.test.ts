// The fixes of upstream defects (emit/fixes.ts) on small files written here
// in the shape of the constructs they look for: each edit changes only its
// lines, a construct that is not there skips the fix with the reason, and
// only the releases with the defect get it. The fixes on the real 0.15 tree
// are checked by hand against an upstream snapshot (README).
import { describe, expect, it } from "vitest";
import { treeFixes } from "../emit/fixes.ts";
import type { TreeRelease } from "../emit/tree.ts";

const R015: TreeRelease = { release: "0.15.0", target: "0.15", versionCode: 0x000f00, hasRunner: true, hasAsyncChecker: true };
const R094: TreeRelease = { release: "0.9.4", target: "0.9", versionCode: 0x000904, hasRunner: false, hasAsyncChecker: false };

const runner = [
	"struct runner_context {",
	"\tint status;",
	"\tpthread_t thr;",
	"};",
	"",
	"static void cleanup_context(void *arg)",
	"{",
	"\tst = uatomic_cmpxchg(&rctx->status, RUNNER_RUNNING, RUNNER_DONE);",
	"\t/*",
	"\t * A comment about waiting.",
	"\t */",
	"\tif (st == RUNNER_CANCELLED) {",
	"\t\tdo",
	"\t\t\tsched_yield();",
	"\t\twhile (uatomic_read(&rctx->status) == RUNNER_CANCELLED);",
	"\t}",
	"}",
	"",
	"static void *runner_thread(void *arg)",
	"{",
	"\t/* Only run the function if we haven't been cancelled */",
	"\tif (st == RUNNER_IDLE)",
	"\t\t(*rctx->func)(rctx->data);",
	"}",
	"",
	"static int cancel_runner(struct runner_context *rctx)",
	"{",
	"\tcase RUNNER_RUNNING:",
	"\t\tpthread_cancel(rctx->thr);",
	"\t\tassert(uatomic_cmpxchg(&rctx->status, RUNNER_CANCELLED,",
	"\t\t\t\t       RUNNER_DEAD) == RUNNER_CANCELLED);",
	"\t\tst_new = RUNNER_CANCELLED;",
	"}",
	"",
	"struct runner_context *get_runner(void)",
	"{",
	"\tuatomic_set(&rctx->status, RUNNER_IDLE);",
	"}",
	"",
].join("\n");
const asyncChecker = [
	"#include <stdlib.h>",
	"#include <dlfcn.h>",
	'#include "runner.h"',
	"",
	"int async_check_pending(struct checker *c)",
	"{",
	"\treturn 0;",
	"}",
	"",
	"int async_check_check(struct checker *c, union checker_mpcontext *mpc)",
	"{",
	"\tacc->rtx = get_runner(runner_callback, &acc->rdata, rdata_size(acc),",
	"\t\t\t      1000000 * c->timeout);",
	"}",
	"",
].join("\n");
const version = ["LIBMPATHUTIL_5.0 {", "global:", "\tcheck_runner;", "\tget_persistent_runner;", "\tget_runner;", "};", ""].join("\n");
const tur = [
	"\t\tdefault:",
	"\t\t\t/* Driver error, retry */",
	"\t\t\tif (--retry_tur)",
	"\t\t\t\tgoto retry;",
	"\t\t}",
	"\t\tif (key == 0x6) {",
	"\t\t\t/* Unit Attention, retry */",
	"\t\t\tif (--retry_tur)",
	"\t\t\t\tgoto retry;",
	"\t\t}",
	"",
].join("\n");
const files = new Map([
	["libmpathutil/runner.c", runner],
	["libmultipath/async_checker.c", asyncChecker],
	["libmpathutil/libmpathutil.version", version],
	["libmultipath/checkers/tur.c", tur],
]);

/** The lines a change removes and adds (a minimal line diff by common prefix and suffix). */
function changed(before: string, after: string): { removed: string[]; added: string[] } {
	const a = before.split("\n");
	const b = after.split("\n");
	let i = 0;
	while (i < a.length && i < b.length && a[i] === b[i]) i++;
	let j = 0;
	while (j < a.length - i && j < b.length - i && a[a.length - 1 - j] === b[b.length - 1 - j]) j++;
	return { removed: a.slice(i, a.length - j), added: b.slice(i, b.length - j) };
}

describe("fixes of upstream 0.15.0 defects", () => {
	const { commits, skipped } = treeFixes(R015, files);

	it("five fix commits, none skipped, each with a subject, a body and the spec it comes from", () => {
		expect(skipped).toEqual([]);
		expect(commits.map((c) => c.subject)).toEqual([
			"libmpathutil: runner: end a runner cancelled before it started",
			"libmpathutil: runner: set RUNNER_DEAD only once the thread has finished",
			"libmultipath: async_checker: compute the runner timeout in 64 bits",
			"libmpathutil: libmpathutil.version: drop get_persistent_runner",
			"libmultipath: tur checker: bound the retries after a transient host status",
		]);
		for (const c of commits) {
			expect(c.body.length, c.subject).toBeGreaterThanOrEqual(2);
			expect(c.specs.length).toBe(1);
		}
	});

	it("a runner cancelled in IDLE is ended by its own thread", () => {
		const after = commits[0].files.get("libmpathutil/runner.c")!;
		const d = changed(runner, after);
		// the comment says why; the if stays as it was, an else follows
		expect(d.removed).toEqual(["\t/* Only run the function if we haven't been cancelled */", "\tif (st == RUNNER_IDLE)", "\t\t(*rctx->func)(rctx->data);"]);
		expect(d.added.slice(4, 6)).toEqual(["\tif (st == RUNNER_IDLE)", "\t\t(*rctx->func)(rctx->data);"]);
		expect(after).toContain("\tif (st == RUNNER_IDLE)\n\t\t(*rctx->func)(rctx->data);\n\telse\n\t\tuatomic_cmpxchg(&rctx->status, RUNNER_CANCELLED, RUNNER_DEAD);\n");
	});

	it("DEAD once the thread has finished: the cancel_sent flag, no state change in assert()", () => {
		const before = commits[0].files.get("libmpathutil/runner.c")!;
		const after = commits[1].files.get("libmpathutil/runner.c")!;
		expect(after).not.toContain("assert(");
		expect(after).toContain("\tint status;\n\t/* set once cancel_runner() is done with pthread_cancel() */\n\tint cancel_sent;\n");
		expect(after).toContain("\t\tpthread_cancel(rctx->thr);\n\t\tuatomic_set(&rctx->cancel_sent, 1);\n\t\tst_new = RUNNER_CANCELLED;\n");
		expect(after).toContain("\t\twhile (!uatomic_read(&rctx->cancel_sent));\n");
		expect(after).toContain("\tuatomic_set(&rctx->status, RUNNER_IDLE);\n\tuatomic_set(&rctx->cancel_sent, 0);\n");
		// the old comment replaced, everything else as it was
		expect(after).not.toContain("A comment about waiting.");
		expect(after).toContain("RUNNER_DEAD always\n\t * means that the thread has finished.\n");
		expect(after.split("\n").length - before.split("\n").length).toBe(3 + 8 - 3 - 1 + 1);
	});

	it("the timeout in 64 bits: a helper before the function that needs it, limits.h after the last system include", () => {
		const after = commits[2].files.get("libmultipath/async_checker.c")!;
		expect(after).toContain("#include <dlfcn.h>\n#include <limits.h>\n#include \"runner.h\"");
		expect(after).toContain("\t\t\t      timeout_usec(c->timeout));");
		expect(after).toMatch(/\}\n\n\/\* The checker timeout in µs, computed in 64 bits and capped \*\/\nstatic unsigned long timeout_usec\(unsigned int timeout\)\n\{\n[\s\S]*?\n\}\n\nint async_check_check\(/);
		expect(after.indexOf("static unsigned long timeout_usec")).toBeGreaterThan(after.indexOf("int async_check_pending"));
	});

	it("get_persistent_runner leaves the version script; the other entries stay", () => {
		expect(commits[3].files.get("libmpathutil/libmpathutil.version")).toBe(version.replace("\tget_persistent_runner;\n", ""));
	});

	it("tur: only the UNIT ATTENTION retry changes", () => {
		const d = changed(tur, commits[4].files.get("libmultipath/checkers/tur.c")!);
		expect(d).toEqual({ removed: ["\t\t\tif (--retry_tur)"], added: ["\t\t\tif (--retry_tur > 0)"] });
	});

	it("a construct that is not there skips its fix with the reason; the others still apply", () => {
		const fixed = new Map(files);
		fixed.set("libmultipath/checkers/tur.c", tur.replaceAll("if (--retry_tur)", "if (--retry_tur > 0)"));
		const r = treeFixes(R015, fixed);
		expect(r.commits.length).toBe(4);
		expect(r.skipped).toEqual([
			"libmultipath: tur checker: bound the retries after a transient host status: not applied (libmultipath/checkers/tur.c does not have the UNIT ATTENTION retry as this fix knows it (fixed already?))",
		]);
	});

	it("a fix needing several edits is skipped whole when one of them is missing", () => {
		const partial = new Map(files);
		partial.set("libmpathutil/runner.c", runner.replace("\tint status;\n", "\tint state;\n"));
		const r = treeFixes(R015, partial);
		expect(r.commits.map((c) => c.subject)).not.toContain("libmpathutil: runner: set RUNNER_DEAD only once the thread has finished");
		expect(r.skipped[0]).toMatch(/^libmpathutil: runner: set RUNNER_DEAD only once the thread has finished: not applied \(libmpathutil\/runner\.c does not have the status member/);
	});

	it("the version script keeps get_persistent_runner when runner.c defines it", () => {
		const defined = new Map(files);
		defined.set("libmpathutil/runner.c", `${runner}struct runner_context *get_persistent_runner(void)\n{\n}\n`);
		const r = treeFixes(R015, defined);
		expect(r.skipped).toContain("libmpathutil: libmpathutil.version: drop get_persistent_runner: not needed (runner.c defines get_persistent_runner)");
	});

	it("a missing file skips the fixes of that file", () => {
		const none = new Map(files);
		none.delete("libmultipath/checkers/tur.c");
		expect(treeFixes(R015, none).skipped).toEqual([
			"libmultipath: tur checker: bound the retries after a transient host status: not applied (the tree has no libmultipath/checkers/tur.c)",
		]);
	});
});

describe("other releases", () => {
	it("0.9.4 gets none of them (its series brings the runner)", () => {
		expect(treeFixes(R094, files)).toEqual({ commits: [], skipped: [] });
	});
});
