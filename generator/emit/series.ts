// The patch layout: the tree layout's files (emitTree) split into a series
// of commits, one per logical change, with upstream-style messages. Pure:
// the tree's files and an emit function (emitTree bound to the tree) come
// in, the commits go out. No file content is written here; every commit's
// files are emitTree's, taken whole, and the files several commits touch
// (the checkers Makefile, the man page) are emitTree's output for the
// checkers of the commits so far.
import type { CheckerModel, RunnerModel, SpecModel } from "../model/types.ts";
import type { TreeOptions, TreeRelease } from "./tree.ts";

export interface SeriesCommit {
	/** `component: summary`, style.md §5. */
	readonly subject: string;
	/** Paragraphs of the body, each unwrapped (wrapped by commitMessage). */
	readonly body: readonly string[];
	/** The spec files the commit's files come from. */
	readonly specs: readonly string[];
	/** Tree-relative path → the file's whole new content (only files the commit changes). */
	readonly files: ReadonlyMap<string, string>;
	/** A fix of an upstream defect (emit/fixes.ts), not generated code. */
	readonly fix?: boolean;
}

export interface SeriesInput {
	readonly models: readonly SpecModel[];
	readonly release: TreeRelease;
	/** The tree's files as they are at the base: every file emitTree may write that exists. */
	readonly base: ReadonlyMap<string, string>;
	/** emitTree for this tree and the given models. */
	readonly emit: (models: readonly SpecModel[], options?: TreeOptions) => Map<string, string>;
	/** Fixes of upstream defects (treeFixes), which go first; their files are not the tree layout's. */
	readonly fixes?: readonly SeriesCommit[];
}

const CHECKERS_DIR = "libmultipath/checkers";
/** Files more than one commit changes: each commit takes emitTree's version for its checkers so far. */
const SHARED = new Set([`${CHECKERS_DIR}/Makefile`, "multipath/multipath.conf.5", "multipath/multipath.conf.5.in"]);
/** The plugin ABI glue and the SG_IO helpers: they come with the first checker. */
const GLUE = /^libmultipath\/checkers\/(async_checker|sg_answer)\.[ch]$/;
/** The async checker glue, which the test build option commit changes. */
const ASYNC_GLUE = /^libmultipath\/checkers\/async_checker\.[ch]$/;

/** The checkers in series order: those the tree has (the series replaces them) first, then the new ones, each in the given order. */
export function seriesOrder(checkers: readonly CheckerModel[], base: ReadonlyMap<string, string>): CheckerModel[] {
	const has = (m: CheckerModel) => base.has(`${CHECKERS_DIR}/${m.name}.c`);
	return [...checkers.filter(has), ...checkers.filter((m) => !has(m))];
}

function listing(items: readonly string[]): string {
	if (items.length <= 1) return items.join("");
	return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

function lastVersionNode(script: string | undefined): string | undefined {
	if (script === undefined) return undefined;
	const nodes = [...script.matchAll(/^(LIBMPATHUTIL_\d+\.\d+)\s*\{/gm)];
	return nodes.length > 0 ? nodes[nodes.length - 1][1] : undefined;
}

function runnerBody(r: RunnerModel, release: TreeRelease, full: ReadonlyMap<string, string>): string[] {
	const node = lastVersionNode(full.get("libmpathutil/libmpathutil.version"));
	const states = r.states.map((s) => `${s.name} (${s.doc})`);
	return [
		`In multipath-tools ${release.release} only the tur checker runs its SCSI command in a thread of its own, with thread, lock and timeout handling private to tur.c. Every other checker blocks the checker loop of multipathd for as long as its command takes.`,
		`Add a generic framework for that: ${r.description}. A runner is a detached thread that runs a worker function on a private copy of the caller's data, so the caller can give up on a stuck worker at any time without waiting for it, and the worker never touches memory the caller may have freed.`,
		"get_runner() starts a worker with an optional timeout, check_runner() polls it and copies the result back once it is done, release_runner() cancels it if needed and drops the caller's reference. runner.h documents the API.",
		`get_persistent_runner() queues a check for a pool of ${r.pool.doc}, so that a path checked every few seconds does not create a thread for every check, and a burst of checks over many paths is run by a few threads one after another instead of a thread woken for each; a check that times out abandons its thread as with get_runner(), and whoever takes a check that leaves others queued makes sure another thread takes them, so that a stuck check never holds up the queue. A pool thread idle for ${r.idleTimeoutMs / 1000} s (RUNNER_IDLE_USEC) ends; once release_persistent_runner() has been called for every persistent runner, so does every thread.${r.batchWorkers ? " Started by a SCHED_OTHER thread, a pool thread moves itself to SCHED_BATCH (RUNNER_BATCH_WORKERS), so that waking it does not preempt the thread handing out checks; under multipathd's SCHED_RR the threads keep the policy they inherit." : ""}`,
		`A runner is in one of the states ${listing(states)}. Every state change is an atomic compare-and-swap, none happens inside assert(), and a runner cancelled before its worker started ends in ${r.states.find((s) => s.key === "DEAD")?.name ?? "dead"} like any other, so no thread is left spinning.`,
		...(node !== undefined ? [`The new symbols are exported in a new version node, ${node}.`] : []),
	];
}

function raceTestBody(): string[] {
	return [
		"The runner framework is only correct if no interleaving of a worker finishing, a timeout cancelling it and the caller polling or releasing it loses a runner, frees its context twice or leaves a thread behind. Add a test program that provokes those races in bulk: runner.c starts many runners per run, each sleeping for a random time around the runner timeout, and polls them like multipathd does, releasing DONE runners after checking their data and DEAD ones at once. A run fails if a runner is still running at its end, if a result is wrong or copied in another state than DONE, or if a state change is impossible.",
		"runner-test.sh runs it in the scenarios that matter: a 1 us timeout (create/cancel races), a 1 ms timeout, a daemon-like load interrupted by SIGINT, completion and cancellation within 1 ms of each other, no noise, and workers that really get cancelled. make test runs the script; make -C tests runner-test.vgr runs it under valgrind, with the timings scaled to valgrind's slowdown.",
	];
}

function asyncTestBody(): string[] {
	return [
		"A checker whose command hangs is what the runner framework is for, but a real device rarely hangs on request. Add a test build option: compiled with -DASYNC_TEST_MAJOR=M (and ASYNC_TEST_MINOR, default 0), every check of device M:m but every ASYNC_TEST_SLEEP_INTERVAL-th stalls for ASYNC_TEST_SLEEP_SECS seconds with cancellation disabled, so that the handling of timed-out, abandoned runners can be exercised on a real path.",
		"Without the option nothing changes.",
	];
}

function checkerBody(m: CheckerModel, replaced: boolean, glue: boolean, release: TreeRelease, man: boolean): string[] {
	const out: string[] = [];
	if (replaced) {
		out.push(
			`The tur checker of multipath-tools ${release.release} carries its own thread handling: a context shared with its thread under a lock, a reference count, and code to wait for a thread that is stuck in SG_IO. The ${m.name} checker (it ${m.description}) is rewritten on the runner framework instead: each check is a runner worker on a private copy of the checker's data, and a check that outlives its timeout is abandoned without blocking multipathd.`,
		);
	} else {
		out.push(`Add the ${m.name} path checker: it ${m.description}. It runs its checks on the runner framework, like tur, so a path whose command hangs does not hold up the checker loop.`);
	}
	if (glue) {
		out.push(
			`async_checker.c and async_checker.h adapt the runner framework to the checker plugin interface of ${release.release} (libcheck_check, libcheck_init, libcheck_free and the message table), running a path's checks in a persistent runner (built with -DASYNC_THREAD_PER_CHECK, each check in a thread of its own); sg_answer.c and sg_answer.h classify an SG_IO answer (ioctl error, host status, SCSI status and sense data) for every checker built on them. The checkers that use them get both as prerequisites in the checkers Makefile.`,
		);
	}
	const msgs = m.messages.map((x) => `"${x.text.trim()}"`);
	if (msgs.length > 0 && msgs.length <= 3) out.push(`Besides the common messages it reports ${listing(msgs)}.`);
	else if (msgs.length > 3) out.push(`Besides the common messages it has ${msgs.length} of its own, from ${msgs[0]} to ${msgs[msgs.length - 1]}.`);
	if (!replaced) out.push(`It is built as libcheck${m.name}.so${man ? " and documented under path_checker in multipath.conf.5" : ""}.`);
	return out;
}

/**
 * The series for a tree: the fixes of upstream defects (input.fixes), the
 * runner and its race test (where the release has none), then one commit
 * per checker, those the tree has first, the first with the glue as it is
 * without the ASYNC_TEST_MAJOR option, which follows as a commit of its own.
 * The commits' files, applied in order, give emitTree's output for all the
 * models exactly, with the checkers in series order (which decides their
 * order in the Makefile), and the fixes' files.
 */
export function planSeries(input: SeriesInput): SeriesCommit[] {
	const { release, base, emit } = input;
	const runner = input.models.find((m): m is RunnerModel => m.kind === "runner");
	const checkers = seriesOrder(
		input.models.filter((m): m is CheckerModel => m.kind === "checker"),
		base,
	);
	const withRunner = (cs: readonly CheckerModel[]): SpecModel[] => (runner ? [runner, ...cs] : [...cs]);
	const full = emit(withRunner(checkers));
	const state = new Map(base);
	const commits: SeriesCommit[] = (input.fixes ?? []).map((c) => ({ ...c, fix: true }));
	const taken = new Set<string>();
	const take = (paths: Iterable<string>, from: ReadonlyMap<string, string>): Map<string, string> => {
		const files = new Map<string, string>();
		for (const p of [...paths].sort()) {
			const text = from.get(p);
			if (text === undefined) continue;
			taken.add(p);
			if (state.get(p) === text) continue;
			files.set(p, text);
			state.set(p, text);
		}
		return files;
	};
	const runnerFiles = [...full.keys()].filter((p) => p.startsWith("libmpathutil/"));
	if (runnerFiles.length > 0) {
		if (!runner) throw new Error("the tree layout wrote libmpathutil files without a runner spec");
		commits.push({
			subject: "libmpathutil: add a generic framework for asynchronous checker threads",
			body: runnerBody(runner, release, full),
			specs: [runner.specFile],
			files: take(runnerFiles, full),
		});
	}
	const testFiles = [...full.keys()].filter((p) => p.startsWith("tests/"));
	if (testFiles.length > 0 && runner) {
		commits.push({
			subject: "multipath-tools tests: add a race test for the runner framework",
			body: raceTestBody(),
			specs: [runner.specFile],
			files: take(testFiles, full),
		});
	}
	// the glue comes first without the test build option, which is a commit of its own
	const asyncGlue = [...full.keys()].filter((p) => ASYNC_GLUE.test(p));
	const plainGlue = asyncGlue.length > 0 ? emit(withRunner(checkers), { asyncTestOption: false }) : full;
	checkers.forEach((m, i) => {
		const last = i === checkers.length - 1;
		const snapshot = last ? full : emit(withRunner(checkers.slice(0, i + 1)));
		const glue = i === 0 ? [...full.keys()].filter((p) => GLUE.test(p)) : [];
		const own = [`${CHECKERS_DIR}/${m.name}.c`, ...glue.filter((p) => !ASYNC_GLUE.test(p))];
		const files = new Map([
			...take(own, full),
			...take(
				glue.filter((p) => ASYNC_GLUE.test(p)),
				plainGlue,
			),
			...take([...SHARED].filter((p) => snapshot.has(p)), snapshot),
		]);
		const replaced = base.has(`${CHECKERS_DIR}/${m.name}.c`);
		const man = [...files.keys()].some((p) => p.startsWith("multipath/multipath.conf.5"));
		commits.push({
			subject: replaced ? `libmultipath: checkers: run the ${m.name} checker on runners` : `libmultipath: checkers: add the ${m.name} checker`,
			body: checkerBody(m, replaced, glue.length > 0, release, man),
			specs: glue.length > 0 && runner ? [runner.specFile, m.specFile] : [m.specFile],
			files: new Map([...files.entries()].sort(([a], [b]) => (a < b ? -1 : 1))),
		});
		if (i === 0 && asyncGlue.length > 0 && runner) {
			commits.push({
				subject: "libmultipath: async checkers: add the ASYNC_TEST_MAJOR test build option",
				body: asyncTestBody(),
				specs: [runner.specFile],
				files: take(asyncGlue, full),
			});
		}
	});
	const left = [...full.keys()].filter((p) => !taken.has(p));
	if (left.length > 0) throw new Error(`the series leaves out files the tree layout writes: ${left.join(", ")}`);
	return commits.filter((c) => c.files.size > 0);
}

/** Wraps a paragraph at `width` columns, never breaking a word. */
export function wrap(text: string, width = 72): string {
	const lines: string[] = [];
	let line = "";
	for (const word of text.split(/\s+/).filter(Boolean)) {
		if (line !== "" && line.length + 1 + word.length > width) {
			lines.push(line);
			line = word;
		} else line = line === "" ? word : `${line} ${word}`;
	}
	if (line !== "") lines.push(line);
	return lines.join("\n");
}

export interface Trailers {
	/** "mpcheckgen 0.1.0". */
	readonly generator: string;
	/** "Name <email>". */
	readonly signedOffBy: string;
}

/** The whole commit message: subject, wrapped body, the Generated-by and Signed-off-by trailers. */
export function commitMessage(c: SeriesCommit, t: Trailers, specName: (file: string) => string = (f) => f): string {
	return [
		c.subject,
		"",
		...c.body.flatMap((p) => [wrap(p), ""]),
		`Generated-by: ${t.generator} from ${c.specs.map(specName).join(", ")}`,
		`Signed-off-by: ${t.signedOffBy}`,
		"",
	].join("\n");
}

/** The cover letter's subject and blurb (what git format-patch leaves as *** SUBJECT HERE *** and *** BLURB HERE ***). */
export function coverLetter(
	commits: readonly SeriesCommit[],
	models: readonly SpecModel[],
	release: TreeRelease,
	changes?: { version: number; text: string | undefined },
): { subject: string; blurb: string } {
	const bySpec = new Map(models.filter((m): m is CheckerModel => m.kind === "checker").map((m) => [m.specFile, m.name]));
	const checkers = [...new Set(commits.flatMap((c) => c.specs.flatMap((f) => bySpec.get(f) ?? [])))];
	const addsRunner = !release.hasRunner && commits.some((c) => c.files.has("libmpathutil/runner.c"));
	const fixes = commits.filter((c) => c.fix);
	const fixCount = fixes.length === 1 ? "a defect" : `${fixes.length} defects`;
	const subject = addsRunner
		? `multipath-tools: checker threads on a generic runner framework (${checkers.join(", ")})`
		: checkers.length > 0
			? `multipath-tools: ${listing(checkers)} checker${checkers.length > 1 ? "s" : ""} on runners${fixes.length > 0 ? ", runner and checker fixes" : ""}`
			: "multipath-tools: runner and checker fixes";
	const n = String(commits.length).length;
	const paras = [
		addsRunner
			? `This series adds a generic framework for running path checker commands in detached threads with timeouts and cancellation ("runners") to libmpathutil of multipath-tools ${release.release}, and moves checkers onto it, so that a path whose SCSI command hangs never blocks the checker loop of multipathd and a stuck thread is never waited for.`
			: checkers.length > 0
				? `This series adds ${listing(checkers)} to the path checkers of multipath-tools ${release.release}, running ${checkers.length > 1 ? "their" : "its"} checks on the runner framework${fixes.length > 0 ? `, and fixes ${fixCount} of the runner framework and the checkers first` : ""}.`
				: `This series fixes ${fixCount} of the runner framework and the checkers of multipath-tools ${release.release}.`,
		...(fixes.length > 0
			? [`Each fix says what goes wrong and how it shows; they are targeted changes of the existing code, one commit each${checkers.length > 0 ? ", before the new checkers" : ""}.`]
			: []),
		...(checkers.length > 0
			? [`The C of the checkers is generated by mpcheckgen from typed state-machine specs${addsRunner ? " of the runner and" : ""} of each checker (${checkers.join(", ")}); it follows the tree's coding style and builds with the tree's own flags.`]
			: []),
	].map((p) => wrap(p));
	const perPatch = commits.map((c, i) => `${String(i + 1).padStart(Math.max(2, n), "0")}: ${c.subject}`);
	const out = [...paras.flatMap((p) => [p, ""]), ...perPatch];
	if (changes) {
		out.push("", `Changes v1 -> v${changes.version}:`, "");
		out.push(changes.text !== undefined ? changes.text.replace(/\s+$/, "") : "*** CHANGES SINCE THE LAST VERSION HERE ***");
	}
	return { subject, blurb: out.join("\n") };
}
