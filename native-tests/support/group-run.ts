// Runs a program in a process group of its own and collects its output; a
// run past its timeout is killed with every process it started (the race
// program's forked child, a test run's compilers), which killing the
// program alone would leave behind.
import { spawn } from "node:child_process";

export interface GroupRunOptions {
	cwd?: string;
	env?: Record<string, string | undefined>;
	/** The whole group gets SIGKILL after this long. */
	timeoutMs: number;
	/** Told the group's id once the program runs (e.g. to kill it on SIGINT). */
	onStart?: (pgid: number) => void;
}

export interface GroupRun {
	exitCode: number | null;
	signal: NodeJS.Signals | null;
	stdout: string;
	stderr: string;
	timedOut: boolean;
	durationMs: number;
}

/** Kills a process group; no error if it has ended already. */
export function killGroup(pgid: number): void {
	try {
		process.kill(-pgid, "SIGKILL");
	} catch {
		// already gone
	}
}

export function runInGroup(argv: readonly string[], opts: GroupRunOptions): Promise<GroupRun> {
	const started = Date.now();
	return new Promise((resolveRun, reject) => {
		const child = spawn(argv[0]!, argv.slice(1), { cwd: opts.cwd, env: opts.env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
		const out: Buffer[] = [];
		const err: Buffer[] = [];
		let timedOut = false;
		child.stdout.on("data", (b: Buffer) => out.push(b));
		child.stderr.on("data", (b: Buffer) => err.push(b));
		const timer = setTimeout(() => {
			timedOut = true;
			killGroup(child.pid!);
		}, opts.timeoutMs);
		child.on("spawn", () => opts.onStart?.(child.pid!));
		child.on("error", (e) => {
			clearTimeout(timer);
			reject(new Error(`cannot run ${argv[0]}: ${e.message}`));
		});
		child.on("close", (exitCode, signal) => {
			clearTimeout(timer);
			resolveRun({
				exitCode,
				signal,
				stdout: Buffer.concat(out).toString("utf8"),
				stderr: Buffer.concat(err).toString("utf8"),
				timedOut,
				durationMs: Date.now() - started,
			});
		});
	});
}
