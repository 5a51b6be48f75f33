// Runs spin on a Promela model emitted from a runner model: the safety run
// (assertions, invalid end states) and the non-progress run (-l, weak
// fairness), with the numbers from pan's report and, when spin finds an
// error, the counterexample replayed as a list of caller/thread steps.
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { STEP_PREFIX } from "../../generator/emit/promela.ts";

export type SpinMode = "safety" | "progress";

export interface SpinResult {
	readonly mode: SpinMode;
	readonly errors: number;
	/** The first error pan reported, e.g. "assertion violated (alive[r])". */
	readonly error?: string;
	readonly statesStored: number;
	readonly transitions: number;
	readonly depth: number;
	readonly seconds: number;
	/** pan searched the whole state space (no depth or memory limit hit). */
	readonly complete: boolean;
	/** The counterexample, one step a line: "caller r1: cancel in RUNNING → CANCELLED". */
	readonly trail: readonly string[];
	/** The lines of the model some statement of which the search reached (a safety run without error). */
	readonly reachedLines: ReadonlySet<number>;
	readonly panOutput: string;
}

function run(cmd: string, args: string[], cwd: string, timeout = 300_000) {
	const r = spawnSync("nice", [cmd, ...args], { cwd, encoding: "utf8", timeout, maxBuffer: 64 << 20 });
	if (r.error) throw new Error(`cannot run ${cmd}: ${r.error.message}`);
	return r;
}

function num(text: string, re: RegExp): number {
	const m = re.exec(text);
	return m ? Number(m[1]) : Number.NaN;
}

/** Verifies `pml` in `dir` (created afresh). */
export function verify(pml: string, dir: string, mode: SpinMode): SpinResult {
	rmSync(dir, { recursive: true, force: true });
	mkdirSync(dir, { recursive: true });
	writeFileSync(join(dir, "runner.pml"), pml);
	const a = run("spin", ["-a", "runner.pml"], dir);
	if (a.status !== 0) throw new Error(`spin -a failed:\n${a.stdout}${a.stderr}`);
	const define = mode === "safety" ? "-DSAFETY" : "-DNP";
	const cc = run("gcc", ["-O0", define, "-DVECTORSZ=4096", "-o", "pan", "pan.c"], dir);
	if (cc.status !== 0) throw new Error(`gcc pan.c failed:\n${cc.stderr}`);
	const pan = run("./pan", ["-m200000", ...(mode === "progress" ? ["-l", "-f"] : [])], dir);
	const out = pan.stdout + pan.stderr;
	if (pan.status !== 0 && !/errors: [1-9]/.test(out)) throw new Error(`pan failed (${pan.status}):\n${out}`);
	const errors = num(out, /errors: (\d+)/);
	const error = /^pan:1: (.*?)(?: \(at depth \d+\))?$/m.exec(out)?.[1];
	let trail: string[] = [];
	if (errors > 0 && readdirSync(dir).includes("runner.pml.trail")) {
		const t = run("spin", ["-t", "runner.pml"], dir);
		trail = t.stdout
			.split("\n")
			.map((l) => l.trim())
			.filter((l) => l.startsWith(STEP_PREFIX) || l.startsWith("<<<<<START OF CYCLE>>>>>"))
			.map((l) => (l.startsWith(STEP_PREFIX) ? l.slice(STEP_PREFIX.length).replaceAll(" -> ", " → ") : "── the cycle starts here, repeated forever ──"));
		// the step that failed an assertion prints nothing: name it with its line of the model
		const at = /^spin: runner\.pml:(\d+), Error: (.*)$/m.exec(t.stdout);
		if (at) {
			const src = readFileSync(join(dir, "runner.pml"), "utf8").split("\n")[Number(at[1]) - 1]?.replace(/;\s*printf\("(?:[^"\\]|\\.)*"(?:, [^)]*)?\)/g, "").trim() ?? "";
			trail.push(`✗ ${at[2]} at runner.pml:${at[1]}: ${src}`);
		}
		// a deadlock: where each process is stuck when the trail ends
		if (/^pan:1: invalid end state/m.test(out)) {
			const lines = readFileSync(join(dir, "runner.pml"), "utf8").split("\n");
			for (const p of t.stdout.matchAll(/^\d+:\s+proc\s+\d+ \(([\w:]+?):\d+\) runner\.pml:(\d+) \(state \d+\)(.*)$/gm)) {
				if (p[3].includes("valid end state")) continue;
				const src = lines[Number(p[2]) - 1]?.replace(/;?\s*printf\("(?:[^"\\]|\\.)*"(?:, [^)]*)?\)/g, "").trim() ?? "";
				// the inline or proctype it is in, which names the C function
				let k = Number(p[2]) - 1;
				while (k > 0 && !/^(inline|proctype|init)\b/.test(lines[k])) k--;
				const within = /^(?:inline|proctype) (\w+)/.exec(lines[k])?.[1] ?? "init";
				trail.push(`✗ stuck for ever: ${p[1] === ":init:" ? "the end check" : p[1]}, in ${within} at runner.pml:${p[2]}: ${src}`);
			}
		}
	}
	// what the search reached: an inline is expanded at each of its calls, so
	// a line is reached when pan reports it unreached fewer times than a
	// search that stops at once does (which reaches next to nothing)
	const reachedLines = new Set<number>();
	if (mode === "safety" && errors === 0) {
		const all = unreachedCounts(run("./pan", ["-m1"], dir).stdout);
		const left = unreachedCounts(out);
		for (const [line, n] of all) if ((left.get(line) ?? 0) < n) reachedLines.add(line);
	}
	return {
		mode,
		errors,
		error,
		statesStored: num(out, /(\d+) states, stored/),
		transitions: num(out, /(\d+) transitions/),
		depth: num(out, /depth reached (\d+)/),
		seconds: num(out, /elapsed time ([\d.e+-]+) seconds/),
		complete: !/max search depth too small|Search not completed/.test(out) || errors > 0,
		trail,
		reachedLines,
		panOutput: out,
	};
}

/** How many statements of each line of the model pan reports unreached. */
function unreachedCounts(out: string): Map<number, number> {
	const counts = new Map<number, number>();
	for (const m of out.matchAll(/^\trunner\.pml:(\d+), state \d+, /gm)) counts.set(Number(m[1]), (counts.get(Number(m[1])) ?? 0) + 1);
	return counts;
}

export function summary(name: string, r: SpinResult): string {
	const head = `${name} (${r.mode}): ${r.errors === 0 ? "verified" : `ERROR ${r.error ?? ""}`}; ${r.statesStored} states stored, ${r.transitions} transitions, depth ${r.depth}, ${r.seconds} s`;
	return r.trail.length ? `${head}\n${r.trail.map((l) => `    ${l}`).join("\n")}` : head;
}
