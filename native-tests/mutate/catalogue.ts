// The mutation catalogue of `npm run mutate` (issue 15): deliberate bugs in
// the generator side (templates, emitters, lowering, model) and in the
// interpreter (the oracle), each a small declared text edit. mutate.ts
// applies them one at a time in a scratch copy, regenerates generated/ and
// runs the behaviour tests listed for the mutant; MUTATION.md is the result.
//
// An edit's search text must occur exactly once in its file (applyEdit
// refuses otherwise, and catalogue.test.ts checks every entry against the
// current sources in `npm test`), so the catalogue cannot rot silently: an
// edit that no longer applies must be rewritten to the code as it is now.
//
// Add a mutant with the behaviour tests most likely to kill it first; the
// golden test is never one of them (it passes after a regenerate).
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** One behaviour test run: a vitest file, optionally narrowed by a test-name pattern. */
export interface TestRun {
	readonly id: string;
	readonly file: string;
	/** vitest -t: a regular expression over the full test names. */
	readonly name?: string;
}

export const TESTS = {
	schedRunner: {
		id: "sched-race (runner, clang)",
		file: "native-tests/runner/sched-race.test.ts",
		name: "generated runner, clang",
	},
	schedAsync: { id: "sched-race (async checker)", file: "native-tests/runner/sched-race.test.ts", name: "the async checker" },
	stall: { id: "stall (clang)", file: "native-tests/host/stall.test.ts", name: "^'clang' build" },
	stallSlot: { id: "stall (slot freed meanwhile)", file: "native-tests/host/stall.test.ts", name: "a slot freed while a check is in flight" },
	timeout: { id: "timeout (clang)", file: "native-tests/host/timeout.test.ts", name: "^'clang' build" },
	runnerCopy: { id: "runner-copy", file: "native-tests/runner/runner-copy.test.ts" },
	race: { id: "runner-race (plain-gcc)", file: "native-tests/runner/runner-race.test.ts", name: "scenarios, plain-gcc" },
	racePersistent: {
		id: "runner-race (persistent-gcc)",
		file: "native-tests/runner/runner-race.test.ts",
		name: "scenarios with persistent runners, persistent-gcc",
	},
	boundaries: { id: "boundaries", file: "native-tests/sim/boundaries.test.ts" },
	turReference: { id: "tur-reference", file: "native-tests/sim/tur-reference.test.ts" },
	aluaStories: { id: "alua-behaviour", file: "native-tests/sim/alua-behaviour.test.ts" },
	outcomes: { id: "checker-outcomes (clang)", file: "native-tests/sim/checker-outcomes.test.ts", name: "^'clang' build" },
	aluaFuzz: { id: "alua-fuzz", file: "native-tests/sim/alua-fuzz.test.ts" },
	corners: { id: "lowering-corners", file: "native-tests/sim/lowering-corners.test.ts" },
	hpSwReference: { id: "hp_sw-reference", file: "native-tests/sim/hp_sw-reference.test.ts" },
	rdacReference: { id: "rdac-reference", file: "native-tests/sim/rdac-reference.test.ts" },
	rdacInit09: { id: "rdac-init09", file: "native-tests/sim/rdac-init09.test.ts" },
	decoderLanguage: { id: "decoder-language", file: "native-tests/sim/decoder-language.test.ts" },
	emcReference: { id: "emc_clariion-reference", file: "native-tests/sim/emc_clariion-reference.test.ts" },
	bytesFields: { id: "bytes-fields", file: "native-tests/sim/bytes-fields.test.ts" },
	mapContext: { id: "map-context", file: "native-tests/sim/map-context.test.ts" },
	workerPolicy: { id: "worker-policy", file: "native-tests/runner/worker-policy.test.ts" },
	poolIdle: { id: "cycle (the pool's idle threads)", file: "native-tests/host/cycle.test.ts", name: "the pool's threads after the cycles" },
} as const satisfies Record<string, TestRun>;

/** One text edit: `search` must occur exactly once in `file`. */
export interface Edit {
	readonly file: string;
	readonly search: string;
	readonly replace: string;
}

export type Area =
	| "runner"
	| "async checker"
	| "sense decoding"
	| "decoders"
	| "rule emission"
	| "retries"
	| "interpreter";

export interface Mutant {
	/** Short unique id (`npm run mutate -- --only ID`). */
	readonly name: string;
	readonly area: Area;
	/** One line: the bug. */
	readonly what: string;
	readonly edits: readonly Edit[];
	/** The behaviour tests to run, in order; the first failure kills the mutant. */
	readonly tests: readonly TestRun[];
	/** Set when no test can kill it: why its behaviour equals the original's. */
	readonly equivalent?: string;
}

/** Where generator-side mutants may live (and the interpreter, the oracle). */
export const MUTABLE_DIRS = [
	"templates/",
	"generator/emit/",
	"generator/lower/",
	"generator/model/",
	"generator/interp/",
	// the library decoders' declarations: both back ends are generated from them
	"generator/spec/decoders.ts",
];

const T = TESTS;
const RUNNER_C = "templates/runner.c.hbs";
const LOWER_RUNNER = "generator/lower/runner.ts";
const ASYNC_C = "templates/async_checker.c.hbs";
const ASYNC_PARTIAL = "templates/partials/async-runners.hbs";
const SG = "templates/sg_answer.c.hbs";
const DECODER_C = "generator/lower/decoder.ts";
const DECODER_DECL = "generator/spec/decoders.ts";
const INTERP = "generator/interp/interpret.ts";
const INTERP_DEC = "generator/interp/decode.ts";
const RULES = "generator/lower/checker-rules.ts";
const CONDITIONS = "generator/lower/conditions.ts";

const SENSE_TESTS = [T.boundaries, T.turReference, T.outcomes];
const DECODER_TESTS = [T.boundaries, T.aluaFuzz, T.outcomes, T.aluaStories];
const RULE_TESTS = [T.outcomes, T.turReference, T.aluaStories, T.boundaries, T.corners];
/** For lowering paths only the corners fixture spec reaches (the embedded specs' output does not change). */
const CORNER_TESTS = [T.corners, T.outcomes, T.turReference, T.aluaStories];

export const MUTANTS: readonly Mutant[] = [
	// -------------------------------------------------------------- runner
	{
		name: "runner-cas-returns",
		area: "runner",
		what: "a failed compare-and-swap returns the state it found instead of retrying",
		edits: [
			{
				file: LOWER_RUNNER,
				search: 'then: [{ kind: "expr", text: "continue" }] });',
				replace: 'then: [{ kind: "return", value: "state" }] });',
			},
		],
		tests: [T.schedRunner, T.race],
	},
	{
		name: "runner-mark-before-cancel",
		area: "runner",
		what: "a case's effects emitted in reverse: cancel_sent marked before pthread_cancel()",
		edits: [
			{
				file: LOWER_RUNNER,
				search: "for (const e of c.effects) out.push(",
				replace: "for (const e of [...c.effects].reverse()) out.push(",
			},
		],
		tests: [T.schedRunner, T.race],
	},
	{
		name: "runner-model-effects-reversed",
		area: "runner",
		what: "the runner model keeps a case's effects in reverse order (C and Promela alike: cancel_sent before pthread_cancel())",
		edits: [
			{
				file: "generator/model/build-runner.ts",
				search: "effects: ((c.effects ?? []) as RunnerEffect[]).map(",
				replace: "effects: ((c.effects ?? []) as RunnerEffect[]).slice().reverse().map(",
			},
		],
		tests: [T.schedRunner, T.race],
	},
	{
		name: "runner-refcount-1",
		area: "runner",
		what: "get_runner() starts the reference count at 1 (the thread's reference not counted)",
		edits: [{ file: RUNNER_C, search: "rctx->refcount = 2;", replace: "rctx->refcount = 1;" }],
		tests: [T.schedRunner, T.race],
	},
	{
		name: "runner-dead-before-cancel-sent",
		area: "runner",
		what: "finish in CANCELLED moves to DEAD first and waits for cancel_sent after: DEAD while the canceller may still call pthread_cancel()",
		edits: [
			{
				file: LOWER_RUNNER,
				search: "\tif (c.await) out.push({ kind: \"expr\", text: WAIT_C[c.await.key] });\n",
				replace: "",
			},
			{
				file: LOWER_RUNNER,
				search: 'then: [{ kind: "expr", text: "continue" }] });\n\t}\n',
				replace: 'then: [{ kind: "expr", text: "continue" }] });\n\t\tif (c.await) out.push({ kind: "expr", text: WAIT_C[c.await.key] });\n\t}\n',
			},
		],
		tests: [T.schedRunner, T.race],
		equivalent:
			"the thread still cannot end before cancel_sent is set; the only caller that could see DEAD before that is the canceller itself, which sets cancel_sent before it returns (one caller per runner): no interleaving ends differently, and sched-race runs them all",
	},
	{
		name: "runner-await-no-wait",
		area: "runner",
		what: "await_cancel_sent() returns at once (template side of the DEAD timing)",
		edits: [
			{
				file: RUNNER_C,
				search: "\twhile (!__atomic_load_n(&rctx->cancel_sent, __ATOMIC_ACQUIRE)) {",
				replace: "\twhile (0 && !__atomic_load_n(&rctx->cancel_sent, __ATOMIC_ACQUIRE)) {",
			},
		],
		tests: [T.schedRunner, T.race],
	},
	{
		name: "runner-grouped-return",
		area: "runner",
		what: "states sharing one return report the first state of the group (cancel/poll of DEAD says DONE)",
		edits: [
			{
				file: LOWER_RUNNER,
				search: 'value: i === j ? runnerStateName(g.state) : "state" }',
				replace: "value: runnerStateName(g.state) }",
			},
		],
		tests: [T.schedRunner, T.stall],
	},
	{
		name: "runner-deadline-ignored",
		area: "runner",
		what: "poll never sees the deadline: the deadlinePassed condition lowered to one that is never true",
		edits: [
			{
				file: LOWER_RUNNER,
				search: 'deadlinePassed: "deadline_passed(rctx)"',
				replace: 'deadlinePassed: "(deadline_passed(rctx) && !rctx->deadline_ns)"',
			},
		],
		tests: [T.schedRunner, T.timeout],
	},
	{
		name: "runner-deadline-strict",
		area: "runner",
		what: "the deadline passes only after its nanosecond, not at it (>= becomes >)",
		edits: [{ file: RUNNER_C, search: "now_ns() >= rctx->deadline_ns", replace: "now_ns() > rctx->deadline_ns" }],
		tests: [T.schedRunner, T.timeout, T.stall],
		equivalent:
			"the deadline is a CLOCK_MONOTONIC time in ns: a poll landing on exactly that nanosecond cannot be arranged, and one ns later both versions cancel (sched-race waits until 1 µs past the deadline before its races)",
	},
	{
		name: "runner-timeout-units",
		area: "runner",
		what: "the runner deadline counts the timeout in units of 100 ns instead of µs (10x too short)",
		edits: [{ file: RUNNER_C, search: "now + (uint64_t)usec * 1000;", replace: "now + (uint64_t)usec * 100;" }],
		tests: [T.timeout, T.stall],
	},
	{
		name: "runner-copy-not-done",
		area: "runner",
		what: "check_runner() copies the data in every state, not only DONE (a late or partial result)",
		edits: [{ file: RUNNER_C, search: "if (state == RUNNER_DONE && data)", replace: "if (data)" }],
		tests: [T.runnerCopy, T.race, T.schedAsync],
	},
	// ------------------------------------------------------- async checker
	{
		name: "runner-model-returns-from",
		area: "runner",
		what: "the runner model makes a case that changes state return the state it came from (cancel in RUNNING says RUNNING)",
		edits: [
			{
				file: "generator/model/build-runner.ts",
				search: "const returns = c.returns === undefined ? (to ?? from) : byKey.get(c.returns);",
				replace: "const returns = c.returns === undefined ? from : byKey.get(c.returns);",
			},
		],
		tests: [T.schedRunner, T.timeout],
	},
	{
		name: "runner-copy-unbounded",
		area: "runner",
		what: "check_runner() no longer caps the copy at the runner's data size",
		edits: [{ file: RUNNER_C, search: "\tif (size > rctx->size)\n\t\tsize = rctx->size;\n", replace: "" }],
		tests: [T.runnerCopy, T.race, T.schedAsync],
	},
	{
		name: "pool-no-wake",
		area: "runner",
		what: "a sleeping pool thread claimed for a queued check is never posted (it sleeps on, the check waits)",
		edits: [{ file: RUNNER_C, search: '\t\tRUNNER_TEST_POINT(&t->wake, "wake");\n\t\tsem_post(&t->wake);\n', replace: '\t\tRUNNER_TEST_POINT(&t->wake, "wake");\n' }],
		tests: [T.timeout, T.racePersistent, T.schedAsync],
	},
	{
		name: "pool-no-batch",
		area: "runner",
		what: "a pool thread started by a SCHED_OTHER caller stays SCHED_OTHER (each wake-up preempts the caller handing out checks)",
		edits: [{ file: RUNNER_C, search: "\tbatch_worker();\n", replace: "\t(void)batch_worker;\n" }],
		tests: [T.workerPolicy],
	},
	{
		name: "pool-batch-under-rr",
		area: "runner",
		what: "a pool thread moves to SCHED_BATCH whatever its caller's policy (under multipathd's SCHED_RR it falls below every real-time thread)",
		edits: [{ file: RUNNER_C, search: "\tif (sched_getscheduler(0) == SCHED_OTHER)\n\t", replace: "\t" }],
		tests: [T.workerPolicy],
	},
	{
		name: "pool-take-no-provide",
		area: "runner",
		what: "the provide effect lowered to nothing: a pool thread that takes a check, or ends, leaves the checks queued behind it to no thread (a stuck check holds up the queue)",
		edits: [{ file: LOWER_RUNNER, search: '\tprovide: "pool_provide()",\n', replace: '\tprovide: "(void)0",\n' }],
		tests: [T.stall, T.timeout, T.schedAsync],
	},
	{
		name: "pool-end-no-provide",
		area: "runner",
		what: "a pool thread that ends after a check cancelled in its worker leaves the checks queued to no thread (the lowering drops the provide after endThread)",
		edits: [
			{
				file: LOWER_RUNNER,
				search: '\t\tout.push({ kind: "expr", text: POOL_EFFECT_C[e.key] });\n',
				replace: '\t\tif (e.key !== "provide" || !c.effects.some((x) => x.key === "endThread")) out.push({ kind: "expr", text: POOL_EFFECT_C[e.key] });\n',
			},
		],
		tests: [T.schedAsync],
	},
	{
		name: "pool-no-idle-end",
		area: "runner",
		what: "an idle pool thread never ends (the threads a burst or a storm added stay for ever)",
		edits: [{ file: RUNNER_C, search: "\treturn !self->can_sleep || now_ns() >= self->idle_until_ns;\n", replace: "\treturn !self->can_sleep;\n" }],
		tests: [T.poolIdle],
	},
	{
		name: "async-pending-after-stall",
		area: "async checker",
		what: "pending() returns PENDING when a kept, stalled runner has ended, instead of starting a fresh check",
		edits: [
			{
				file: ASYNC_C,
				search: "\t\tactx->rctx = NULL;\n\t\treturn async_check_check(c, mpc);",
				replace: "\t\tactx->rctx = NULL;\n\t\tc->msgid = CHECKER_MSGID_RUNNING;\n\t\treturn PATH_PENDING;",
			},
		],
		tests: [T.stall, T.schedAsync],
	},
	{
		name: "async-check-in-flight",
		area: "async checker",
		what: "check() starts another runner while one is in flight instead of collecting it",
		edits: [{ file: ASYNC_C, search: "\tif (actx->rctx)\n\t\treturn async_check_pending(c, mpc);\n", replace: "" }],
		tests: [T.schedAsync, T.timeout, T.stall],
	},
	{
		name: "async-free-keeps-runner",
		area: "async checker",
		what: "freeing a path's context does not release the runner in flight",
		edits: [{ file: ASYNC_PARTIAL, search: "\tif (actx->rctx)\n\t\trelease_runner(actx->rctx);\n", replace: "" }],
		tests: [T.schedAsync, T.stall, T.timeout],
	},
	{
		name: "async-pending-no-reap",
		area: "async checker",
		what: "pending() no longer releases abandoned runners whose threads have ended",
		edits: [
			{
				file: ASYNC_C,
				search: "\trdata = actx->rdata;\n\treap_abandoned(actx);\n\tswitch",
				replace: "\trdata = actx->rdata;\n\tswitch",
			},
		],
		tests: [T.stallSlot, T.stall, T.timeout, T.schedAsync],
	},
	{
		name: "async-reap-running",
		area: "async checker",
		what: "abandoned runners are released while their threads still run (the per-path thread bound lost)",
		edits: [
			{
				file: ASYNC_PARTIAL,
				search: "if (!rctx || check_runner(rctx, NULL, 0) == RUNNER_CANCELLED)",
				replace: "if (!rctx)",
			},
		],
		tests: [T.timeout, T.stall, T.schedAsync],
	},
	{
		name: "async-abandon-overwrites",
		area: "async checker",
		what: "abandon_runner() takes a slot that is in use (the runner there is lost, never released)",
		edits: [{ file: ASYNC_PARTIAL, search: "\t\tif (actx->abandoned[i])\n\t\t\tcontinue;\n", replace: "" }],
		tests: [T.stall, T.timeout, T.schedAsync],
	},
	{
		name: "async-one-more-timeout",
		area: "async checker",
		what: "MAX_NR_TIMEOUTS one larger than the spec's maxNrTimeouts",
		edits: [
			{
				file: ASYNC_C,
				search: "#define MAX_NR_TIMEOUTS {{maxNrTimeouts}}",
				replace: "#define MAX_NR_TIMEOUTS ({{maxNrTimeouts}} + 1)",
			},
		],
		tests: [T.stall, T.timeout],
	},
	{
		name: "emit-timeouts-one-less",
		area: "async checker",
		what: "the emitter hands the async glue one abandoned slot less than the spec's maxNrTimeouts",
		edits: [
			{
				file: "generator/emit/index.ts",
				search: "const glue = { ...asyncCheckerView(p, header, m.maxNrTimeouts, asyncTestOption), layout };",
				replace: "const glue = { ...asyncCheckerView(p, header, m.maxNrTimeouts - 1, asyncTestOption), layout };",
			},
		],
		tests: [T.stall, T.timeout],
	},
	{
		name: "async-timeout-ms",
		area: "async checker",
		what: "the checker timeout converted to µs as if it were in ms",
		edits: [{ file: ASYNC_PARTIAL, search: "usec = 1000000ULL * timeout;", replace: "usec = 1000ULL * timeout;" }],
		tests: [T.timeout, T.stall],
	},
	{
		name: "async-done-msgid",
		area: "async checker",
		what: "a finished check's message is not passed on (pending() keeps the old msgid)",
		edits: [
			{
				file: ASYNC_C,
				search: "\t\tactx->rctx = NULL;\n\t\tc->msgid = rdata->msgid;\n",
				replace: "\t\tactx->rctx = NULL;\n",
			},
		],
		tests: [T.outcomes, T.schedAsync],
	},
	// ------------------------------------------------------ sense decoding
	{
		name: "sense-fixed-14-both",
		area: "sense decoding",
		what: "fixed-format sense needs sb_len_wr > 14, in the C template and in the interpreter alike",
		edits: [
			{ file: SG, search: "if (len <= 13 ||", replace: "if (len <= 14 ||" },
			{ file: INTERP, search: "if (len > 13 &&", replace: "if (len > 14 &&" },
		],
		tests: SENSE_TESTS,
	},
	{
		name: "sense-fixed-13-c",
		area: "sense decoding",
		what: "the C decodes fixed-format sense from sb_len_wr 13 (ASCQ read beyond what the device wrote)",
		edits: [{ file: SG, search: "if (len <= 13 ||", replace: "if (len <= 12 ||" }],
		tests: SENSE_TESTS,
	},
	{
		name: "sense-descriptor-4-c",
		area: "sense decoding",
		what: "the C needs sb_len_wr > 4 for any sense (descriptor sense of 4 bytes ignored)",
		edits: [{ file: SG, search: "\tif (len <= 3)\n", replace: "\tif (len <= 4)\n" }],
		tests: SENSE_TESTS,
	},
	{
		name: "sense-descriptor-3-both",
		area: "sense decoding",
		what: "sense of 3 bytes decoded, in the C template and in the interpreter alike",
		edits: [
			{ file: SG, search: "\tif (len <= 3)\n", replace: "\tif (len < 3)\n" },
			{ file: INTERP, search: "if (len <= 3) return", replace: "if (len < 3) return" },
		],
		tests: SENSE_TESTS,
	},
	{
		name: "sense-valid-bit-c",
		area: "sense decoding",
		what: "fixed-format sense with the VALID bit (0xF0) no longer recognised by the C",
		edits: [{ file: SG, search: "((sb[0] & 0x7f) != 0x70 &&", replace: "(sb[0] != 0x70 &&" }],
		tests: SENSE_TESTS,
	},
	{
		name: "sense-descriptor-key-interp",
		area: "interpreter",
		what: "the interpreter takes a descriptor-format sense key from byte 2 (the fixed format's)",
		edits: [{ file: INTERP, search: "return { key: sb[1] & 0x0f, asc: sb[2]", replace: "return { key: sb[2] & 0x0f, asc: sb[2]" }],
		tests: SENSE_TESTS,
	},
	{
		name: "sense-descriptor-0x73-c",
		area: "sense decoding",
		what: "the C no longer recognises deferred descriptor-format sense (0x73)",
		edits: [{ file: SG, search: "if (sb[0] == 0x72 || sb[0] == 0x73) {", replace: "if (sb[0] == 0x72) {" }],
		tests: SENSE_TESTS,
	},
	{
		name: "sense-no-clamp",
		area: "sense decoding",
		what: "sb_len_wr no longer clamped to the sense buffer's size",
		edits: [{ file: SG, search: "\tif (sb_len > (int)sizeof(sense))\n\t\tsb_len = sizeof(sense);\n", replace: "" }],
		tests: SENSE_TESTS,
		equivalent:
			"decode_sense() only compares len with 3 and 13 and reads bytes 0..13 of the 32-byte buffer: an unclamped sb_len_wr above 32 takes the same branches as 32",
	},
	{
		name: "emit-sense-buffer-short",
		area: "sense decoding",
		what: "the emitter gives the SG helper a sense buffer one byte shorter than the model's (mx_sb_len 31)",
		edits: [
			{
				file: "generator/emit/index.ts",
				search: "const view = { header: header ?? frameworkHeader(target), senseLength, layout };",
				replace: "const view = { header: header ?? frameworkHeader(target), senseLength: senseLength - 1, layout };",
			},
		],
		tests: SENSE_TESTS,
	},
	{
		name: "sg-resid-zero",
		area: "sense decoding",
		what: "a residual count of 0 takes the resid < len branch instead of the resid <= 0 one",
		edits: [{ file: SG, search: "if (io_hdr.resid <= 0)", replace: "if (io_hdr.resid < 0)" }],
		tests: [T.outcomes, T.boundaries],
		equivalent:
			"with resid 0 the next branch computes len - 0 = len (and for len 0 leaves transferred at its memset 0 = len): the same value either way",
	},
	// ------------------------------------------------------------ decoders
	// The C back end (lower/decoder.ts), the interpreter back end
	// (interp/decode.ts) and the declarations both are generated from
	// (spec/decoders.ts: a mutant there changes both sides alike).
	{
		name: "rtpg-descriptor-bound-c",
		area: "decoders",
		what: "the C of a walk rejects a descriptor header that exactly fits (off + header >= end)",
		edits: [{ file: DECODER_C, search: "cond: [`off + ${s.header} > end`]", replace: "cond: [`off + ${s.header} >= end`]" }],
		tests: DECODER_TESTS,
	},
	{
		name: "bytes-compare-short-c",
		area: "decoders",
		what: "the C of a bytes comparison (memcmp) compares one byte fewer than it reads (emc_clariion: a change in the WWN's last byte unseen)",
		edits: [{ file: DECODER_C, search: "${this.inputs[e.input.index]}, ${e.read.length})", replace: "${this.inputs[e.input.index]}, ${e.read.length - 1})" }],
		tests: [T.emcReference, T.bytesFields, T.outcomes],
	},
	{
		name: "bytes-store-c",
		area: "decoders",
		what: "the C never copies a bytes field into the context (emc_clariion: the stored WWN stays zero)",
		edits: [{ file: RULES, search: "return [{ kind: \"expr\", text: `memcpy(${target}, ${src}, sizeof(${target}))` }];", replace: "return [];" }],
		tests: [T.emcReference, T.bytesFields, T.outcomes],
	},
	{
		name: "decoder-need-c",
		area: "decoders",
		what: "the C of a need asks for one byte more than it says (len <= N is too short)",
		edits: [{ file: DECODER_C, search: "? [`len < ${s.bytes}`]", replace: "? [`len <= ${s.bytes}`]" }],
		tests: DECODER_TESTS,
	},
	{
		name: "decoder-walk-need-c",
		area: "decoders",
		what: "the C of a need inside a walk rejects a descriptor that exactly holds the bytes (a 4-byte type 4/5 designator)",
		edits: [{ file: DECODER_C, search: "? [`off + ${s.bytes} > next`]", replace: "? [`off + ${s.bytes} >= next`]" }],
		tests: DECODER_TESTS,
	},
	{
		name: "decoder-body-past-c",
		area: "decoders",
		what: "the C of a walk takes a descriptor that ends exactly at the end of the data as running past it",
		edits: [{ file: DECODER_C, search: 'cond: ["next > end"]', replace: 'cond: ["next >= end"]' }],
		tests: DECODER_TESTS,
	},
	{
		name: "decoder-overrun-c",
		area: "decoders",
		what: "the C of a walk that ended exactly at the end of the data takes it as overrun (RTPG: truncated, not group missing)",
		edits: [{ file: DECODER_C, search: 'cond: ["off > end"]', replace: 'cond: ["off >= end"]' }],
		tests: DECODER_TESTS,
	},
	{
		name: "decoder-mask-c",
		area: "decoders",
		what: "the C drops the top bit of every bit field's mask (designator type on 3 bits, as the prioritizer does)",
		edits: [{ file: DECODER_C, search: "& ${this.constant(e.mask, true)}", replace: "& ${this.constant(e.mask >> 1, true)}" }],
		tests: DECODER_TESTS,
	},
	{
		name: "bytes-compare-interp",
		area: "interpreter",
		what: "the interpreter's bytes comparison skips the first byte (emc_clariion: a change in the WWN's byte 10 unseen)",
		edits: [{ file: INTERP_DEC, search: "const same = a.every((x, i) => x === b[i]);", replace: "const same = a.every((x, i) => i === 0 || x === b[i]);" }],
		tests: [T.emcReference, T.bytesFields, T.outcomes],
	},
	{
		name: "decoder-header-bound-interp",
		area: "interpreter",
		what: "the interpreter's walk rejects a descriptor header that exactly fits",
		edits: [{ file: INTERP_DEC, search: "if (f.off + s.header > f.end) {", replace: "if (f.off + s.header >= f.end) {" }],
		tests: DECODER_TESTS,
	},
	{
		name: "decoder-overrun-interp",
		area: "interpreter",
		what: "the interpreter takes a walk that ended exactly at the end of the data as overrun",
		edits: [{ file: INTERP_DEC, search: "if (f.off > f.end) return run(s.overrun, f);", replace: "if (f.off >= f.end) return run(s.overrun, f);" }],
		tests: DECODER_TESTS,
	},
	{
		name: "decoder-need-interp",
		area: "interpreter",
		what: "the interpreter's need asks for one byte more than it says",
		edits: [{ file: INTERP_DEC, search: ": f.len < s.bytes;", replace: ": f.len <= s.bytes;" }],
		tests: DECODER_TESTS,
	},
	{
		name: "decoder-in-interp",
		area: "interpreter",
		what: "the interpreter's set membership ignores the set's first value (VPD 0x83: relative target port designators skipped)",
		edits: [{ file: INTERP_DEC, search: "return e.values.includes(v) ? 1 : 0;", replace: "return e.values.slice(1).includes(v) ? 1 : 0;" }],
		tests: DECODER_TESTS,
	},
	{
		name: "vpd-page-end-both",
		area: "decoders",
		what: "the VPD 0x83 page is taken to end one byte early, in the declaration (so in the C and the interpreter alike)",
		edits: [
			{
				file: DECODER_DECL,
				search: '{ let: "pageEnd", value: { add: [4, { read: 2, size: 2 }] } }',
				replace: '{ let: "pageEnd", value: { add: [3, { read: 2, size: 2 }] } }',
			},
		],
		tests: DECODER_TESTS,
	},
	{
		name: "vpd-last-tpg-both",
		area: "decoders",
		what: "the declaration keeps the last target port group designator, not the first",
		edits: [
			{
				file: DECODER_DECL,
				search: 'when: { and: [{ eq: [{ ref: "type" }, TARGET_PORT_GROUP] }, { not: { ref: "haveTpg" } }] },',
				replace: 'when: { eq: [{ ref: "type" }, TARGET_PORT_GROUP] },',
			},
		],
		tests: DECODER_TESTS,
	},
	{
		name: "rtpg-extended-mask-both",
		area: "decoders",
		what: "the declaration recognises the extended header only when byte 4 is exactly 0x10 (other bits set: plain)",
		edits: [{ file: DECODER_DECL, search: "{ read: 4, mask: 0x70 }", replace: "{ read: 4 }" }],
		tests: DECODER_TESTS,
	},
	{
		name: "rtpg-bad-length-both",
		area: "decoders",
		what: "the declaration accepts a returned length of exactly the header (total == first is no longer badLength)",
		edits: [
			{
				file: DECODER_DECL,
				search: '{ when: { le: [{ ref: "total" }, { ref: "first" }] }, then: [{ return: "badLength" }] },',
				replace: '{ when: { lt: [{ ref: "total" }, { ref: "first" }] }, then: [{ return: "badLength" }] },',
			},
		],
		tests: DECODER_TESTS,
	},
	{
		name: "rtpg-transition-default-both",
		area: "decoders",
		what: "the declaration's default implicit transition time 30 s instead of 60",
		edits: [{ file: DECODER_DECL, search: "DEFAULT_TRANSITION_TIME = 60;", replace: "DEFAULT_TRANSITION_TIME = 30;" }],
		tests: [T.outcomes, T.aluaStories, T.boundaries],
	},
	// ------------------------------------------- facts and message values
	{
		name: "bit-test-negated-c",
		area: "rule emission",
		what: "the C of a bit test compares with != where it should compare with == (DRIVER_SENSE never seen)",
		edits: [{ file: "generator/lower/checker-rules.ts", search: '${c.negated ? "!=" : "=="} ${hex(f.value, 1)}', replace: '${c.negated ? "==" : "!="} ${hex(f.value, 1)}' }],
		tests: [T.hpSwReference, T.decoderLanguage, T.outcomes],
	},
	{
		name: "range-upper-bound-c",
		area: "rule emission",
		what: "the C of a range test leaves out its upper bound",
		edits: [{ file: "generator/lower/checker-rules.ts", search: "return [`${name} >= ${fmt(lo)}`, `${name} <= ${fmt(hi)}`];", replace: "return [`${name} >= ${fmt(lo)}`];" }],
		tests: [T.decoderLanguage, T.outcomes],
	},
	{
		name: "message-value-c",
		area: "rule emission",
		what: "the C reports a message with values without adding the value (always the first text)",
		edits: [{ file: "generator/lower/checker.ts", search: "if (!v || v.kind === \"const\") return base;", replace: "if (v || !v) return base;" }],
		tests: [T.rdacReference, T.decoderLanguage, T.outcomes],
	},
	{
		name: "message-value-interp",
		area: "interpreter",
		what: "the interpreter reports a message with values one entry too far",
		edits: [{ file: INTERP, search: "msgid: o.message.id + offset,", replace: "msgid: o.message.id + offset + (v === undefined ? 0 : 1)," }],
		tests: [T.rdacReference, T.decoderLanguage, T.outcomes],
	},
	{
		name: "driver-status-interp",
		area: "interpreter",
		what: "the interpreter takes the driver status as 0 whatever the answer says",
		edits: [{ file: INTERP, search: "driverStatus: (a.driverStatus ?? 0) & 0xffff,", replace: "driverStatus: 0," }],
		tests: [T.hpSwReference, T.rdacReference, T.outcomes],
	},
	// ------------------------------------------------------- rule emission
	{
		name: "switch-case-falls-through",
		area: "rule emission",
		what: "a switch case whose rules may not end the list gets no break (falls into the next case)",
		edits: [
			{
				file: RULES,
				search: 'body: rules.some((r) => alwaysEnds(r, inner)) ? body : [...body, { kind: "break" }] };',
				replace: "body };",
			},
		],
		tests: RULE_TESTS,
	},
	{
		name: "switch-case-rules-reversed",
		area: "rule emission",
		what: "the rules grouped under one switch label are emitted in reverse order",
		edits: [
			{
				file: RULES,
				search: "const rules = runRules.filter((r) => switchTest(r, run.key, env)!.written[0].value === v);",
				replace: "const rules = runRules.filter((r) => switchTest(r, run.key, env)!.written[0].value === v).reverse();",
			},
		],
		tests: RULE_TESTS,
	},
	{
		name: "switch-threshold-2",
		area: "rule emission",
		what: "a switch already for two constants of one field (instead of three)",
		edits: [{ file: RULES, search: "if (!run || values.length < 3) {", replace: "if (!run || values.length < 2) {" }],
		tests: RULE_TESTS,
		equivalent:
			"a layout choice, not a behaviour: no embedded spec has a run over exactly two constants (generated/ is unchanged), and where one exists its switch tests the same values in the same order as the if-chain, so every answer gets the same outcome",
	},
	{
		name: "prune-after-retry",
		area: "rule emission",
		what: "condition pruning treats a fall-through retry rule as ending the list (later rules lose tests it seemed to settle)",
		edits: [
			{
				file: CONDITIONS,
				search: "if (rule.terminal && rule.conditions.length === 1) {",
				replace: "if (rule.conditions.length === 1) {",
			},
		],
		tests: CORNER_TESTS,
	},
	{
		name: "prune-errno-always",
		area: "rule emission",
		what: "the implied 'ioctl succeeded' test is dropped from every rule, not only from decoded ones",
		edits: [
			{
				file: CONDITIONS,
				search: 'if (decoded && (c.fact.kind === "errno" || c.fact.kind === "sgInfo")) return false;',
				replace: 'if (c.fact.kind === "errno" || c.fact.kind === "sgInfo") return false;',
			},
		],
		tests: CORNER_TESTS,
	},
	{
		name: "status-unmasked",
		area: "rule emission",
		what: "a SCSI status test compares the whole status byte, not status & 0x7e",
		edits: [
			{
				file: RULES,
				search: "any(c.written.map((w) => `(ans.status & 0x7e) == ${hex(w.value)}`));",
				replace: "any(c.written.map((w) => `ans.status == ${hex(w.value)}`));",
			},
		],
		tests: RULE_TESTS,
	},
	{
		name: "host-status-not-any",
		area: "rule emission",
		what: "a hostStatus `not` list joined with || (true for every host status once it names two)",
		edits: [
			{
				file: RULES,
				search: "? c.written.map((w) => `ans.host_status != ${symbolOrHex(w)}`)",
				replace: "? any(c.written.map((w) => `ans.host_status != ${symbolOrHex(w)}`))",
			},
		],
		tests: RULE_TESTS,
	},
	{
		name: "sense-code-whole-asc",
		area: "rule emission",
		what: "a whole-ASC sense code (29/*) tested against the ASCQ byte of its low end",
		edits: [
			{
				file: RULES,
				search: "return [`ans.asc == ${hex(lo >> 8)}`];",
				replace: "return [`ans.asc == ${hex(lo & 0xff)}`];",
			},
		],
		tests: RULE_TESTS,
	},
	{
		name: "condition-parentheses",
		area: "rule emission",
		what: "the C writer no longer parenthesises an || term inside an && condition",
		edits: [
			{
				file: "generator/emit/c-writer.ts",
				search: "return terms.map((t) => (/ \\|\\| /.test(t) ? `(${t})` : t)).join(\" && \");",
				replace: 'return terms.join(" && ");',
			},
		],
		tests: CORNER_TESTS,
	},
	{
		name: "decoder-store-skipped",
		area: "rule emission",
		what: "a decoded outcome's stores into the context are not emitted",
		edits: [
			{
				file: "generator/lower/checker.ts",
				search: "then: assignments(st.assignments, env) });",
				replace: "then: [] });",
			},
		],
		tests: [T.outcomes, T.aluaStories],
	},
	// ------------------------------------------------------------- retries
	{
		name: "cdb-allocation-offset",
		area: "rule emission",
		what: "a multi-byte allocation length written one byte too far into the CDB",
		edits: [
			{
				file: "generator/lower/checker-command.ts",
				search: "(${len}, cdb + ${alloc.offset})`,",
				replace: "(${len}, cdb + ${alloc.offset + 1})`,",
			},
		],
		tests: [T.boundaries, T.outcomes, T.aluaStories],
	},
	{
		name: "retry-budget-le-c",
		area: "retries",
		what: "the C retries while counter <= max: one retry more than the budget",
		edits: [
			{
				file: RULES,
				search: "const test = `${counter} < ${env.n.budgetMax.get(o.budget)!}`;",
				replace: "const test = `${counter} <= ${env.n.budgetMax.get(o.budget)!}`;",
			},
		],
		tests: [T.turReference, T.outcomes, T.aluaStories],
	},
	{
		name: "retry-max-define-c",
		area: "retries",
		what: "the C's *_MAX_RETRIES define is one below the spec's maxRetries",
		edits: [
			{
				file: "generator/lower/checker.ts",
				search: "value: String(b.maxRetries), doc: b.doc",
				replace: "value: String(b.maxRetries - 1), doc: b.doc",
			},
		],
		tests: [T.turReference, T.outcomes, T.aluaStories],
	},
	{
		name: "retry-budget-model",
		area: "retries",
		what: "the model gives every retry budget one retry more than the spec says (C and interpreter alike)",
		edits: [
			{
				file: "generator/model/checker-declarations.ts",
				search: "{ key, maxRetries: max, doc:",
				replace: "{ key, maxRetries: max + 1, doc:",
			},
		],
		tests: [T.turReference, T.aluaStories, T.outcomes],
	},
	{
		name: "retry-budget-interp",
		area: "interpreter",
		what: "the interpreter retries while used <= maxRetries",
		edits: [{ file: INTERP, search: "if (used < o.budget.maxRetries) {", replace: "if (used <= o.budget.maxRetries) {" }],
		tests: [T.turReference, T.outcomes, T.aluaStories],
	},
	{
		name: "retry-target-c",
		area: "retries",
		what: "the C's retry re-runs the current state instead of the retry's goto state",
		edits: [
			{
				file: RULES,
				search: "...assignments(o.assignments, env), env.jump(o.target)];",
				replace: "...assignments(o.assignments, env), env.jump(env.state)];",
			},
		],
		tests: [T.aluaStories, T.outcomes],
	},
	{
		name: "retry-target-model",
		area: "retries",
		what: "the model ignores a retry's goto: every retry re-runs its own state (C and interpreter alike)",
		edits: [
			{
				file: "generator/model/checker-outcomes.ts",
				search: 'const target = raw.goto === undefined ? state : stateRef(cx, raw.goto, [...path, "goto"], "retry in");',
				replace: "const target = state;",
			},
		],
		tests: [T.aluaStories, T.outcomes],
	},
	{
		name: "retry-set-skipped-c",
		area: "retries",
		what: "the C's retry does not make the retry's context stores (rtpgPlain, rtpgLength)",
		edits: [
			{
				file: RULES,
				search: "...assignments(o.assignments, env), env.jump(o.target)];",
				replace: "env.jump(o.target)];",
			},
		],
		tests: [T.outcomes, T.aluaStories],
	},
	// -------------------------------------------------------- interpreter
	{
		name: "interp-transferred",
		area: "interpreter",
		what: "the interpreter counts a residual count larger than the buffer as everything transferred",
		edits: [
			{
				file: INTERP,
				search: "const transferred = resid <= 0 ? length : resid < length ? length - resid : 0;",
				replace: "const transferred = resid <= 0 ? length : resid < length ? length - resid : length;",
			},
		],
		tests: [T.outcomes, T.aluaFuzz, T.boundaries],
	},
	{
		name: "interp-cdb-context-byte",
		area: "interpreter",
		what: "the interpreter sends a context-chosen CDB byte the other way round (plain format when the flag is clear)",
		edits: [
			{
				file: INTERP,
				search: "return ctx[b.field.key] ? b.ifSet : b.ifClear;",
				replace: "return ctx[b.field.key] ? b.ifClear : b.ifSet;",
			},
		],
		tests: [T.outcomes, T.aluaStories, T.boundaries],
	},
	{
		name: "interp-status-mask",
		area: "interpreter",
		what: "the interpreter keeps bit 0 of the status byte",
		edits: [{ file: INTERP, search: "status: (a.status ?? 0) & 0x7e,", replace: "status: (a.status ?? 0) & 0x7f," }],
		tests: [T.outcomes, T.turReference, T.boundaries],
	},
	{
		name: "interp-no-clamp",
		area: "interpreter",
		what: "the interpreter stores values above a context field's max unclamped",
		edits: [{ file: INTERP, search: ": Math.min(v, a.field.max);", replace: ": v;" }],
		tests: [T.outcomes, T.aluaStories],
	},
	{
		name: "interp-decodes-check-condition",
		area: "interpreter",
		what: "the interpreter decodes the data of an answer whose SG_IO info says CHECK (not only of good ones)",
		edits: [
			{ file: INTERP, search: "if (facts.errno === 0 && facts.sgInfo === 0) {", replace: "if (facts.errno === 0) {" },
		],
		tests: [T.outcomes, T.aluaStories, T.boundaries],
	},
	{
		name: "model-host-status-not",
		area: "interpreter",
		what: "the model's allowed set of a hostStatus `not` is the named list itself (the interpreter reads it inverted)",
		edits: [
			{
				file: "generator/model/checker-facts.ts",
				search: "negated ? complement(set, ANSWER_DOMAINS.hostStatus) : set, v, negated),",
				replace: "set, v, negated),",
			},
		],
		tests: [T.outcomes, T.turReference, T.aluaStories],
	},
	{
		name: "async-mpc-copy-back-always",
		area: "async checker",
		what: "a completed check's map context is copied back even when the check left it alone (upstream 0.15: an overlapping check undoes another path's update)",
		edits: [{ file: ASYNC_C, search: "rdata->mpc.long_val != actx->mpc_given.long_val", replace: "1" }],
		tests: [T.emcReference],
	},
	{
		name: "map-store-never",
		area: "rule emission",
		what: "the check's copy of the map context is never stored back into rdata->mpc",
		edits: [{ file: "generator/lower/checker.ts", search: 'cond: ["v != was"]', replace: 'cond: ["v != was && 0"]' }],
		tests: [T.mapContext, T.emcReference],
	},
	{
		name: "interp-map-not-carried",
		area: "interpreter",
		what: "the interpreter starts every check from an unset map context instead of the one it is given",
		edits: [{ file: INTERP, search: "...(mapIn ?? initialMapContext(m))", replace: "...initialMapContext(m)" }],
		tests: [T.emcReference, T.mapContext],
	},
	// ---------------------------------------------------------------- init
	{
		name: "init-glue-no-fd",
		area: "async checker",
		what: "the ABI A glue calls libcheck_async_init without the path's fd (the init's commands go to fd -1)",
		edits: [{ file: "templates/async_checker.abi-a.c.hbs", search: "\tactx->rdata->fd = c->fd;\n", replace: "" }],
		tests: [T.rdacInit09],
	},
	{
		name: "init-every-check",
		area: "rule emission",
		what: "the view for a target without init I/O never records the init as done: every check runs it again",
		edits: [{ file: "generator/model/init-view.ts", search: 'value: { kind: "const", value: 1 } }];', replace: 'value: { kind: "const", value: 0 } }];' }],
		tests: [T.rdacReference],
	},
	{
		name: "payload-read-in-interp",
		area: "interpreter",
		what: "the interpreter sends a dataReadIn payload from the common buffer, not the named state's",
		edits: [{ file: INTERP, search: "const buf = own ?? (source ? kept.get(source)! : buffer);", replace: "const buf = own ?? buffer;" }],
		tests: [T.rdacReference],
	},
];

/** `text` with `edit` applied; throws unless its search text occurs exactly once. */
export function applyEdit(text: string, edit: Edit, mutant: string): string {
	const first = text.indexOf(edit.search);
	const count = first < 0 ? 0 : text.split(edit.search).length - 1;
	if (count !== 1) {
		throw new Error(
			`mutant ${mutant}: the search text occurs ${count} times in ${edit.file} (must be exactly once): ${JSON.stringify(edit.search)}`,
		);
	}
	return text.slice(0, first) + edit.replace + text.slice(first + edit.search.length);
}

/** The mutated contents of every file `m` edits, read from `root`; throws when an edit does not apply. */
export function mutatedFiles(m: Mutant, root: string): Map<string, string> {
	const out = new Map<string, string>();
	for (const e of m.edits) {
		const before = out.get(e.file) ?? readFileSync(join(root, e.file), "utf8");
		out.set(e.file, applyEdit(before, e, m.name));
	}
	return out;
}
