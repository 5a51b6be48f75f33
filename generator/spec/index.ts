// The spec language, as spec authors import it.
export { defineChecker } from "./checker.ts";
export type {
	AnswerPredicate,
	CheckerSpec,
	ContextFieldSpec,
	MessageSpec,
	Outcome,
	RetryBudgetSpec,
	Rule,
	SenseCode,
} from "./checker.ts";
export { inquiryVpd, reportTargetPortGroups, testUnitReady } from "./commands.ts";
export type { CommandSpec } from "./commands.ts";
export { DECODERS, defineDecoder, rtpgTargetPortGroup, vpd83TargetPortGroup } from "./decoders.ts";
export type { DecoderExpr, DecoderInfo, DecoderName, DecoderStep } from "./decoders.ts";
export { defineRunner } from "./runner.ts";
export type { RunnerSpec } from "./runner.ts";
