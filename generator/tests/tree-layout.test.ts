// The tree layout's pure parts: release detection and the targeted edits of
// a tree's Makefiles, version script and man page, on snippets written as
// the trees write them. (The real Debian 0.9.4 tree is built and tested in
// native-tests/tree/.)
import { describe, expect, it } from "vitest";
import { addCheckerPlugins, addManEntry, addObject, addRunnerTest, addVersionNode, copyrightLines, detectRelease } from "../emit/tree.ts";

const tree = (extra: Record<string, string> = {}) =>
	new Map(
		Object.entries({
			"libmultipath/version.h": "#define VERSION_CODE 0x000904\n",
			"libmpathutil/libmpathutil.version": "LIBMPATHUTIL_1.0 {\n\tfoo;\n};\n",
			"libmpathutil/Makefile": "OBJS := a.o\n",
			"libmultipath/checkers/Makefile": "LIBS= \\\n\tlibchecktur.so\n",
			"libmultipath/checkers.h": "",
			"libmultipath/sg_include.h": "",
			...extra,
		}),
	);

describe("release detection", () => {
	it("0.9.4 from VERSION_CODE", () => {
		expect(detectRelease(tree())).toMatchObject({ release: "0.9.4", target: "0.9", hasRunner: false, hasAsyncChecker: false });
	});
	it("refuses a tree it does not know, naming the version", () => {
		expect(detectRelease(tree({ "libmultipath/version.h": "#define VERSION_CODE 0x000B01\n" }))).toEqual({
			error: "multipath-tools 0.11.1 (VERSION_CODE 0x000B01) is not a release the tree layout knows (known: 0.9.4, 0.15.0)",
		});
		expect(detectRelease(new Map())).toEqual({ error: "no libmultipath/version.h: not a multipath-tools tree" });
		const partial = tree();
		partial.delete("libmultipath/checkers/Makefile");
		expect(detectRelease(partial)).toEqual({ error: "no libmultipath/checkers/Makefile: the tree is incomplete" });
	});
});

describe("targeted edits", () => {
	it("an object joins the OBJS assignment, continuation lines included, once", () => {
		const mk = "OBJS := a.o b.o \\\n\tc.o\n\nall: x\n";
		const once = addObject(mk, "runner.o");
		expect(once).toBe("OBJS := a.o b.o \\\n\tc.o runner.o\n\nall: x\n");
		expect(addObject(once, "runner.o")).toBe(once);
	});
	it("new symbols go to a new MINOR node inheriting the last; listed ones are not listed again", () => {
		const script = "LIBMPATHUTIL_1.0 {\n\tfoo;\n};\n\nLIBMPATHUTIL_1.1 {\nglobal:\n\tbar;\n} LIBMPATHUTIL_1.0;\n";
		const out = addVersionNode(script, ["get_runner", "check_runner"]);
		expect(out.endsWith("LIBMPATHUTIL_1.2 {\nglobal:\n\tcheck_runner;\n\tget_runner;\n} LIBMPATHUTIL_1.1;\n")).toBe(true);
		expect(addVersionNode(out, ["get_runner", "check_runner"])).toBe(out);
	});
	it("plugins join LIBS; the generated ones link the glue objects; the rule does not become the default goal", () => {
		const mk = "LIBS= \\\n\tlibcheckrdac.so\n\nall: $(LIBS)\n\nlibcheck%.so: %.o\n\t$(CC) -o $@ $^\n\nOBJS := $(LIBS:libcheck%.so=%.o)\n";
		const out = addCheckerPlugins(mk, ["tur", "alua"], ["tur", "alua"], ["async_checker.o", "sg_answer.o"]);
		expect(out).toBe(
			"LIBS= \\\n\tlibcheckrdac.so \\\n\tlibchecktur.so \\\n\tlibcheckalua.so\n\nall: $(LIBS)\n\nlibcheck%.so: %.o\n\t$(CC) -o $@ $^\n" +
				"\n# the generated checkers run their checks in runner threads\nlibchecktur.so libcheckalua.so: async_checker.o sg_answer.o\n" +
				"\nOBJS := $(LIBS:libcheck%.so=%.o)\nOBJS += async_checker.o sg_answer.o\n",
		);
		expect(addCheckerPlugins(out, ["tur", "alua"], ["tur", "alua"], ["async_checker.o", "sg_answer.o"])).toBe(out);
	});
	it("a man page entry goes into the path_checker list after tur, not where the name appears elsewhere", () => {
		const man = ".B prio\n.RS\n.TP\n.I alua\nprio\n.RE\n.B path_checker\n.RS\n.TP 12\n.I tur\nIssue TUR.\n.TP\n.I none\nNothing.\n.RE\n";
		const out = addManEntry(man, "alua", "Checks ALUA.");
		expect(out).toBe(".B prio\n.RS\n.TP\n.I alua\nprio\n.RE\n.B path_checker\n.RS\n.TP 12\n.I tur\nIssue TUR.\n.TP\n.I alua\nChecks ALUA.\n.TP\n.I none\nNothing.\n.RE\n");
		expect(addManEntry(out, "alua", "Checks ALUA.")).toBe(out);
	});
	it("the race test joins the tests Makefile: TESTS, its link flags, the script's .out and .vgr rules, make test, clean; once", () => {
		const mk = [
			"TESTS := uevent parser \\",
			"\t alias cli",
			"",
			"all:\t$(TESTS:%=%.out)",
			"",
			"alias-test_LIBDEPS := -lpthread -ldl",
			"cli-test_OBJDEPS := $(daemondir)/cli.o",
			"",
			"%.vgr:  %-test lib/libchecktur.so",
			"\t@echo == running valgrind for $< ==",
			"\tvalgrind ./$< >$@ 2>&1",
			"",
			"test_clean:",
			"\t$(Q)$(RM) $(TESTS:%=%.out) $(TESTS:%=%.vgr) *.so*",
			"",
		].join("\n");
		const out = addRunnerTest(mk);
		expect(out.split("\n")).toEqual([
			"TESTS := uevent parser \\",
			"\t alias cli runner",
			"",
			"all:\t$(TESTS:%=%.out) runner-test.out",
			"",
			"alias-test_LIBDEPS := -lpthread -ldl",
			"cli-test_OBJDEPS := $(daemondir)/cli.o",
			"runner-test_LIBDEPS := -lpthread",
			"",
			"%.vgr:  %-test lib/libchecktur.so",
			"\t@echo == running valgrind for $< ==",
			"\tvalgrind ./$< >$@ 2>&1",
			"",
			"runner-test.out: runner-test",
			"\t@echo == running runner-test.sh ==",
			'\t$(Q)./runner-test.sh >$@ 2>&1 || { cat "$@"; false; }',
			"",
			"runner-test.vgr: runner-test",
			"\t@echo == running runner-test.sh under valgrind ==",
			'\t$(Q)VALGRIND=1 ./runner-test.sh >$@ 2>&1 || { cat "$@"; false; }',
			"",
			"test_clean:",
			"\t$(Q)$(RM) runner-test.out runner-test.vgr",
			"\t$(Q)$(RM) $(TESTS:%=%.out) $(TESTS:%=%.vgr) *.so*",
			"",
		]);
		expect(addRunnerTest(out)).toBe(out);
		expect(() => addRunnerTest("all:\n")).toThrow("the tests Makefile has no TESTS list");
	});
	it("the copyright lines of a file's first comment are kept", () => {
		expect(copyrightLines("/*\n * Some code borrowed from sg-utils.\n *\n * Copyright (c) 2004 Christophe Varoqui\n */\n#include <x.h>\n")).toEqual([
			"Copyright (c) 2004 Christophe Varoqui",
		]);
		expect(copyrightLines("#include <x.h>\n")).toEqual([]);
	});
});
