// rdac's init on 0.9 (plugin ABI A): 0.9.4 calls libcheck_init with the
// path's fd open, so the generated libcheck_async_init runs the init states
// before it returns (0.15 runs them at the first check instead:
// rdac-reference.test.ts). The 0.9 plugin layout of rdac is linked into
// native-tests/host/init09.c with simulated SG_IO; each case's commands
// (CDB, fd, timeout, data out) must be what the interpreter's init of the
// model gives, and every command must go to the checker's fd.
//
// Run: npx vitest run native-tests/sim/rdac-init09.test.ts
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { interpretInit, type SimAnswer } from "../../generator/interp/interpret.ts";
import { loadSpec } from "../../generator/load.ts";
import { checkerForTarget } from "../../generator/model/init-view.ts";
import type { CheckerModel } from "../../generator/model/types.ts";
import { compile, ROOT } from "../support/cc.ts";

const G = join(ROOT, "generated/0.9");
const HOST = join(ROOT, "native-tests/host");
const INCLUDES = [join(G, "target-abi"), join(G, "libmpathutil"), join(G, "libmultipath"), join(G, "libmultipath/checkers"), HOST];

/** MODE SENSE(10) data of the Control mode page, TAS in byte 13 bit 6. */
const controlPage = (tas: boolean, length = 20): SimAnswer => {
	const b = [0x00, 0x12, 0x00, 0x10, 0, 0, 0, 0, 0x8a, 0x0a, 0x02, 0x10, 0x00, tas ? 0x40 : 0x00, 0, 0, 0xff, 0xff, 0x00, 0x1e];
	return { status: 0, info: 0, data: b.slice(0, length) };
};
/** The changeable values: a mask of the bits that can be changed, unlike the current values. */
const changeable = (tas: boolean): SimAnswer => ({ status: 0, info: 0, data: [0x00, 0x12, 0, 0, 0, 0, 0, 0, 0x0a, 0x0a, 0x0e, 0xf0, 0x00, tas ? 0x48 : 0x08, 0, 0, 0, 0, 0, 0] });
const CHECK: SimAnswer = { status: 0x02, driverStatus: 0x08, info: 1, sense: [0x70, 0, 0x05, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] };
const GOOD: SimAnswer = { status: 0, info: 0, data: [] };

const CASES: { name: string; answers: SimAnswer[]; sent: number; log?: string }[] = [
	{ name: "TAS clear and changeable: MODE SELECT with TAS set", answers: [controlPage(false), changeable(true), GOOD], sent: 3 },
	{ name: "TAS already set: one MODE SENSE", answers: [controlPage(true)], sent: 1 },
	{ name: "TAS clear, not changeable: no MODE SELECT", answers: [controlPage(false), changeable(false)], sent: 2 },
	{ name: "MODE SENSE rejected (ILLEGAL REQUEST): logged, ignored", answers: [CHECK], sent: 1, log: "cannot read the Control mode page" },
	{ name: "MODE SENSE failing (EIO): logged, ignored", answers: [{ errno: 5 }], sent: 1, log: "cannot read the Control mode page" },
	{
		name: "the changeable values' MODE SENSE failing (DID_ERROR): logged, ignored",
		answers: [controlPage(false), { hostStatus: 0x07, info: 1 }],
		sent: 2,
		log: "cannot read the changeable Control mode page",
	},
	{ name: "MODE SELECT rejected: logged, ignored", answers: [controlPage(false), changeable(true), CHECK], sent: 3, log: "cannot set TAS in the Control mode page" },
];

/** An answer as init09.c reads it. */
function arg(a: SimAnswer): string {
	if (a.errno) return "-";
	if (a.sense) return "c";
	if (a.hostStatus) return `h${a.hostStatus.toString(16)}`;
	return (a.data ?? []).map((b) => b.toString(16).padStart(2, "0")).join("") || "00";
}

const hex = (b: readonly number[]) => b.map((x) => x.toString(16).padStart(2, "0")).join("");

let model: CheckerModel;
let host: string;
beforeAll(async () => {
	model = (await loadSpec("specs/rdac.ts")) as CheckerModel;
	const sgsim = compile({
		compiler: "clang",
		kind: "shared",
		name: "libsgsim-init09",
		sources: [join(HOST, "sgsim.c")],
		includeDirs: INCLUDES,
		// its __wrap_ioctl answers through init09.c's, which records the fd
		defines: { __wrap_ioctl: "sgsim_ioctl" },
		ldflags: ["-Wl,-soname,libsgsim-init09.so"],
	}).output;
	host = compile({
		compiler: "clang",
		kind: "executable",
		name: "init09",
		sources: [
			join(HOST, "init09.c"),
			join(G, "libmultipath/checkers/rdac.c"),
			join(G, "libmultipath/checkers/sg_answer.c"),
			join(G, "libmultipath/async_checker.c"),
			join(G, "libmpathutil/runner.c"),
			join(ROOT, "native-tests/support/dlog.c"),
		],
		includeDirs: INCLUDES,
		ldflags: ["-Wl,--wrap=ioctl", `-L${dirname(sgsim)}`, "-lsgsim-init09", `-Wl,-rpath,${dirname(sgsim)}`],
		extraInputs: [sgsim],
	}).output;
});

describe("rdac's init on 0.9 runs in libcheck_init, on the path's fd", () => {
	it("0.9's view of the model is the model: its init runs in libcheck_init", () => {
		expect(checkerForTarget(model, "0.9")).toBe(model);
		expect(model.init?.initial.key).toBe("currentPage");
		expect(checkerForTarget(model, "0.15").init).toBeNull();
	});
	it("every case: the commands the interpreter's init sends, each on the checker's fd with its timeout; init returns 0", () => {
		const r = spawnSync(host, CASES.map((c) => c.answers.map(arg).join(",")), { encoding: "utf8" });
		expect(r.status, r.stderr).toBe(0);
		const got = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { ret: number; unanswered: number; commands: { fd: number; timeoutMs: number; dir: number; len: number; cdb: string; out: string }[] });
		expect(got).toHaveLength(CASES.length);
		CASES.forEach((c, i) => {
			const want = interpretInit(model, (_cmd, k) => c.answers[k], 7);
			expect(want.commands, c.name).toHaveLength(c.sent);
			expect(got[i], c.name).toEqual({
				ret: 0,
				unanswered: 0,
				commands: want.commands.map((w) => ({ fd: 42, timeoutMs: w.timeoutMs, dir: w.direction, len: w.length, cdb: hex(w.cdb), out: hex(w.dataOut ?? []) })),
			});
		});
		// what each case logs at level 3: a failure's line, nothing else
		const logs = r.stderr.split(/^case \d+\n/m).slice(1);
		expect(logs).toHaveLength(CASES.length);
		CASES.forEach((c, i) => {
			const lines = logs[i].split("\n").filter((l) => l.includes("rdac checker"));
			expect(lines.map((l) => l.replace(/^.*rdac checker: /, "")), c.name).toEqual(c.log ? [c.log] : []);
		});
		// the MODE SELECT: the current values, page code and length 0x0A, TAS set, save pages
		const select = got[0].commands[2];
		expect(select.cdb).toBe("55010000000000001400");
		const sent = [...controlPage(false).data!];
		sent[8] = 0x0a;
		sent[13] |= 0x40;
		expect(select.out).toBe(hex(sent));
	});
});
