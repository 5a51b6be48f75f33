// Fixes of upstream defects that the project's specs avoid, as targeted
// edits of the tree's own files: each fix finds the defective construct in
// the tree's text and changes only those lines, so that its commit is a
// diff a reviewer can read. A fix whose construct is not in the tree (the
// tree has it fixed, or reads differently) is skipped with the reason. Pure:
// the tree's files come in as text, the commits go out.
import type { SeriesCommit } from "./series.ts";
import type { TreeRelease } from "./tree.ts";

/** One edit of a file: the construct it looks for and what it becomes. */
interface Edit {
	readonly what: string;
	readonly find: RegExp;
	readonly replace: (match: RegExpExecArray) => string;
}

interface TreeFix {
	/** The releases whose trees have the defect. */
	readonly releases: readonly string[];
	readonly subject: string;
	readonly body: readonly string[];
	/** The spec whose behaviour the fix brings to the tree. */
	readonly spec: string;
	/** Tree-relative path → the edits of that file, applied in order. */
	readonly edits: Readonly<Record<string, readonly Edit[]>>;
	/** Why the fix does not apply although its constructs are there (e.g. the symbol is defined after all). */
	readonly unless?: (files: ReadonlyMap<string, string>) => string | undefined;
}

/** The files the fixes read (beside the tree layout's TREE_INPUTS). */
export const FIX_INPUTS = ["libmultipath/checkers/tur.c", "libmpathutil/runner.c", "libmultipath/async_checker.c", "libmpathutil/libmpathutil.version"] as const;

const TIMEOUT_HELPER = [
	"/* The checker timeout in µs, computed in 64 bits and capped */",
	"static unsigned long timeout_usec(unsigned int timeout)",
	"{",
	"\tunsigned long long usec = 1000000ULL * timeout;",
	"",
	"\treturn usec > ULONG_MAX ? ULONG_MAX : (unsigned long)usec;",
	"}",
	"",
].join("\n");

const CLEANUP_WAIT_COMMENT = [
	"\t/*",
	"\t * If it finds the thread in RUNNER_RUNNING state, cancel_runner() sets",
	"\t * the state to RUNNER_CANCELLED before actually cancelling it. If the",
	"\t * thread terminated between these two points in time, pthread_cancel()",
	"\t * could access a pthread_t of an already cleaned-up thread. Therefore",
	"\t * wait here until cancel_runner() is done with pthread_cancel(); only",
	"\t * then does the runner become RUNNER_DEAD, so that RUNNER_DEAD always",
	"\t * means that the thread has finished.",
	"\t */",
	"",
].join("\n");

const FIXES: readonly TreeFix[] = [
	{
		releases: ["0.15.0"],
		subject: "libmpathutil: runner: end a runner cancelled before it started",
		body: [
			"cancel_runner() moves a runner that is still RUNNER_IDLE to RUNNER_CANCELLED and expects runner_thread() to release it. runner_thread() does skip the worker then, but nothing moves the runner on: cleanup_context() finds RUNNER_CANCELLED and waits for cancel_runner() to set RUNNER_DEAD after pthread_cancel(), which never comes, as no pthread_cancel() is sent for an idle runner. The thread spins in sched_yield() for ever and the runner's context is never freed. The race test does not notice, because CANCELLED runners are simply released at the end of a run; with RUNNER_START_DELAY_US it is easy to provoke.",
			"A runner cancelled before its worker started has nobody else to finish it, so runner_thread() moves it from RUNNER_CANCELLED to RUNNER_DEAD itself.",
		],
		spec: "specs/runner.ts",
		edits: {
			"libmpathutil/runner.c": [
				{
					what: "the worker call in runner_thread()",
					find: /\n(\t+)(?:\/\*[^\n]*\*\/\n\t+)?if \(st == RUNNER_IDLE\)\n(\t+\(\*rctx->func\)\(rctx->data\);\n)/,
					replace: (m) =>
						[
							"",
							`${m[1]}/*`,
							`${m[1]} * Only run the function if we haven't been cancelled. A runner`,
							`${m[1]} * cancelled before it started is ended here: nobody else would.`,
							`${m[1]} */`,
							`${m[1]}if (st == RUNNER_IDLE)`,
							`${m[2]}${m[1]}else`,
							`${m[1]}\tuatomic_cmpxchg(&rctx->status, RUNNER_CANCELLED, RUNNER_DEAD);`,
							"",
						].join("\n"),
				},
			],
		},
	},
	{
		releases: ["0.15.0"],
		subject: "libmpathutil: runner: set RUNNER_DEAD only once the thread has finished",
		body: [
			"cancel_runner() sets RUNNER_DEAD right after pthread_cancel() returns, while the worker may still be blocked in a system call that is no cancellation point, or in a section with cancellation disabled. check_runner() then reports a runner as dead whose thread is alive, and the async checker's handling of stuck runners (it waits for a timed-out runner's thread before it starts another) does not see the thread it should wait for. The state change also sits inside assert(): built with -DNDEBUG it is compiled out, and every cleanup handler that finds RUNNER_CANCELLED waits for ever.",
			"The cleanup handler waits for pthread_cancel() to be done so that it is never sent to a finished thread. Make that a flag of its own, cancel_sent, which cancel_runner() sets after pthread_cancel() returns; the thread's cleanup handler waits for it and then moves the runner from RUNNER_CANCELLED to RUNNER_DEAD itself. RUNNER_DEAD then always means that the thread has finished, and no state change is left in an assert().",
		],
		spec: "specs/runner.ts",
		edits: {
			"libmpathutil/runner.c": [
				{
					what: "the status member of struct runner_context",
					find: /(?:^|\n)struct runner_context \{\n(\t)int status;\n/,
					replace: (m) => `${m[0]}${m[1]}/* set once cancel_runner() is done with pthread_cancel() */\n${m[1]}int cancel_sent;\n`,
				},
				{
					what: "the comment and wait in cleanup_context()",
					find: /\t\/\*\n(?:\t \*[^\n]*\n)*?\t \*\/\n(\tif \(st == RUNNER_CANCELLED\) \{\n\t\tdo\n\t\t\tsched_yield\(\);\n\t\t)while \(uatomic_read\(&rctx->status\) == RUNNER_CANCELLED\);/,
					replace: (m) => `${CLEANUP_WAIT_COMMENT}${m[1]}while (!uatomic_read(&rctx->cancel_sent));`,
				},
				{
					what: "the CANCELLED → DEAD step inside assert() in cancel_runner()",
					find: /\n(\t+)assert\(uatomic_cmpxchg\(&rctx->status, RUNNER_CANCELLED,\s*RUNNER_DEAD\) == RUNNER_CANCELLED\);\n/,
					replace: (m) => `\n${m[1]}uatomic_set(&rctx->cancel_sent, 1);\n`,
				},
				{
					what: "the status initialisation in get_runner()",
					find: /\n(\t)uatomic_set\(&rctx->status, RUNNER_IDLE\);\n/,
					replace: (m) => `${m[0]}${m[1]}uatomic_set(&rctx->cancel_sent, 0);\n`,
				},
			],
		},
	},
	{
		releases: ["0.15.0"],
		subject: "libmultipath: async_checker: compute the runner timeout in 64 bits",
		body: [
			"async_check_check() passes 1000000 * c->timeout to get_runner(), computed in unsigned int: a checker_timeout above 4294 seconds wraps around to a short deadline, or to 0, which get_runner() takes as no deadline at all.",
			"Compute the timeout in microseconds in 64 bits and cap it at ULONG_MAX (on 32-bit platforms unsigned long holds about 71 minutes of microseconds).",
		],
		spec: "specs/runner.ts",
		edits: {
			"libmultipath/async_checker.c": [
				{
					what: "the last system #include",
					find: /(?:^|\n)#include <[^>\n]+>\n(?![\s\S]*#include <)/,
					replace: (m) => (m[0].includes("<limits.h>") ? m[0] : `${m[0]}#include <limits.h>\n`),
				},
				{
					what: "the function that starts the runner with 1000000 * c->timeout",
					find: /\n((?:\/\*[^\n]*\*\/\n)?[a-z][^\n;]*\([^\n;]*\)\n\{\n(?:(?!\n\}\n)[\s\S])*?)1000000 \* c->timeout/,
					replace: (m) => `\n${TIMEOUT_HELPER}\n${m[1]}timeout_usec(c->timeout)`,
				},
			],
		},
	},
	{
		releases: ["0.15.0"],
		subject: "libmpathutil: libmpathutil.version: drop get_persistent_runner",
		body: [
			"libmpathutil.version exports get_persistent_runner, which is declared and defined nowhere. GNU ld accepts a version script naming an undefined symbol; lld (16 and later, --no-undefined-version by default) refuses to link libmpathutil.",
			"Drop it from the version script; it can come back with its implementation.",
		],
		spec: "specs/runner.ts",
		edits: {
			"libmpathutil/libmpathutil.version": [{ what: "the get_persistent_runner entry", find: /\n\tget_persistent_runner;\n/, replace: () => "\n" }],
		},
		unless: (files) => (/\bget_persistent_runner\s*\(/.test(files.get("libmpathutil/runner.c") ?? "") ? "runner.c defines get_persistent_runner" : undefined),
	},
	{
		releases: ["0.15.0"],
		subject: "libmultipath: tur checker: bound the retries after a transient host status",
		body: [
			"tur counts host-status retries and UNIT ATTENTION retries with one counter, retry_tur, and retries while --retry_tur is non-zero. When the last retry of a transient host status brings the counter to 0, the check falls through to the sense data; if that is UNIT ATTENTION, --retry_tur makes it -1, which is non-zero, and tur goes on retrying until the answer changes or the checker is cancelled: a path that keeps answering a transient host status with UNIT ATTENTION is never reported, and its checker thread runs until it times out.",
			"Retry on UNIT ATTENTION only while the counter is still positive, so that both kinds of retries together make at most the 5 attempts the counter allows.",
		],
		spec: "specs/tur.ts",
		edits: {
			"libmultipath/checkers/tur.c": [
				{
					what: "the UNIT ATTENTION retry",
					find: /(\/\* Unit Attention, retry \*\/\n\t+if \(--retry_tur)\)\n/,
					replace: (m) => `${m[1]} > 0)\n`,
				},
			],
		},
	},
];

export interface TreeFixes {
	readonly commits: readonly SeriesCommit[];
	/** Fixes of the release not in the series, each with the reason. */
	readonly skipped: readonly string[];
}

/**
 * The fix commits for a tree of `tree.release`, each the tree's files with
 * that fix's edits (and those of the fixes before it) applied.
 */
export function treeFixes(tree: TreeRelease, files: ReadonlyMap<string, string>): TreeFixes {
	const state = new Map(files);
	const commits: SeriesCommit[] = [];
	const skipped: string[] = [];
	for (const fix of FIXES.filter((f) => f.releases.includes(tree.release))) {
		const reason = fix.unless?.(state);
		if (reason !== undefined) {
			skipped.push(`${fix.subject}: not needed (${reason})`);
			continue;
		}
		const changed = new Map<string, string>();
		let missing: string | undefined;
		for (const [path, edits] of Object.entries(fix.edits)) {
			let text = state.get(path);
			if (text === undefined) {
				missing = `the tree has no ${path}`;
				break;
			}
			for (const e of edits) {
				const m = e.find.exec(text);
				if (!m) {
					missing = `${path} does not have ${e.what} as this fix knows it (fixed already?)`;
					break;
				}
				text = text.slice(0, m.index) + e.replace(m) + text.slice(m.index + m[0].length);
			}
			if (missing !== undefined) break;
			changed.set(path, text);
		}
		if (missing !== undefined) {
			skipped.push(`${fix.subject}: not applied (${missing})`);
			continue;
		}
		for (const [p, t] of changed) state.set(p, t);
		commits.push({ subject: fix.subject, body: fix.body, specs: [fix.spec], files: changed });
	}
	return { commits, skipped };
}
