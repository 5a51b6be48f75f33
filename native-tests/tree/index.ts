// Public API of the real-tree harness (see README.md): Debian's
// multipath-tools source tree and binaries, fetched through a private apt
// configuration and cached; working copies built with the tree's own make;
// dlcheck for loading plugins the way multipathd does.
export {
	aptGet,
	aptUpdate,
	hostDebianMirror,
	mirrorFromDeb822,
	mirrorFromSourcesList,
	parseDeb822,
	privateApt,
	privateAptOptions,
	privateSourcesList,
	type DebianMirror,
	type PrivateApt,
} from "./apt.ts";
export {
	ensureDebianBinaries,
	ensureSourceTree,
	readVersionCode,
	TREE_BUILD_PACKAGES,
	TREE_RELEASES,
	TREE_RUNTIME_PACKAGES,
	treeRelease,
	type DebianBinaries,
	type SourceTree,
	type TreeRelease,
	type TreeReleaseName,
} from "./debian.ts";
export { ABI_SYMBOLS, buildDlcheck, dlcheck, type AbiSymbol, type DlcheckOptions, type DlcheckResult } from "./dlcheck.ts";
export { CommandError, runChecked, runCommand, type CommandResult } from "./exec.ts";
export {
	applyToTree,
	buildTree,
	buildTreeWith,
	collectTestPrograms,
	compilerDiagnostics,
	listTreeTests,
	makeTreeTests,
	parseCmocka,
	prepareTree,
	runTreeTests,
	treeArtifacts,
	treePath,
	type CmockaGroup,
	type CompilerDiagnostic,
	type MakeOptions,
	type MakeResult,
	type PreparedTree,
	type TestProgram,
	type TreeArtifacts,
	type TreeChanges,
	type TreeEdit,
	type TreeTestResult,
} from "./tree.ts";
