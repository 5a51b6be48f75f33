// Builds the generated 0.9 plugin layout (generated/0.9/) into checker
// plugins for Debian's multipathd 0.9.4: each plugin links the checker, the
// SG_IO helper, the ABI A glue and the runner, against Debian's own
// libmultipath and libmpathutil (so -z defs proves every reference resolves,
// with the version nodes the stock plugins bind to). -z nodelete: the
// plugin's own runner threads (a pool thread waiting for its next
// check, a timed-out check's thread stuck in SG_IO) run its code after
// multipathd has let go of the class and dlclose()d it, on reconfigure and
// at shutdown; 0.9.4's tur is safe from that by a class reference its
// thread holds in libmultipath (start_checker_thread), our runner threads
// by the plugin never being unmapped.
import { join } from "node:path";
import { compile, ROOT, type Compiler } from "../support/cc.ts";
import type { DebianBinaries } from "./debian.ts";

export const GENERATED_09 = join(ROOT, "generated/0.9");

/**
 * libcheck<name>.so of the 0.9 plugin layout, linked against `deb`'s
 * libraries; `defines` e.g. { ASYNC_THREAD_PER_CHECK: 1 } for the
 * thread-per-check build (a build of its own).
 */
export function buildPlugin09(name: string, deb: DebianBinaries, compiler: Compiler = "gcc", defines?: Record<string, string | number>): string {
	const g = (p: string) => join(GENERATED_09, p);
	return compile({
		compiler,
		kind: "shared",
		name: `libcheck${name}-0.9${defines && Object.keys(defines).length ? `-${Object.keys(defines).join("-").toLowerCase()}` : ""}`,
		...(defines ? { defines } : {}),
		sources: [g(`libmultipath/checkers/${name}.c`), g("libmultipath/checkers/sg_answer.c"), g("libmultipath/async_checker.c"), g("libmpathutil/runner.c")],
		includeDirs: [g("target-abi"), g("libmpathutil"), g("libmultipath"), g("libmultipath/checkers")],
		ldflags: [`-L${deb.libDir}`, "-l:libmultipath.so.0", "-l:libmpathutil.so.0", "-pthread", "-Wl,-z,relro,-z,now,-z,defs,-z,nodelete"],
		extraInputs: [deb.libmultipath, deb.libmpathutil],
	}).output;
}
