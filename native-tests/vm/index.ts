// Public API of the qemu VM test harness (see README.md).
export { ensureHostPackages, VM_HOST_PACKAGES } from "../support/host-packages.ts";
export { ensureKernel, type KernelInfo, type KernelOptions } from "./kernel.ts";
export {
  appendOverlay,
  buildInitramfs,
  lddClosure,
  moduleClosure,
  SG_TOOLS,
  VM_MODULES,
  type ExtraFile,
  type InitramfsImage,
  type InitramfsOptions,
  type InlineFile,
} from "./initramfs.ts";
export { buildC, buildHarnessHelpers, harnessFile, type CBuildOptions } from "./cbuild.ts";
export { kvmUsable, runVm, VmError, type Accel, type VmOptions, type VmRun } from "./qemu.ts";
export { ConsoleParser, RECORD_MARKER, type VmRecord } from "./records.ts";
export {
  argText,
  assertScenarioOk,
  collectResults,
  compileScenarios,
  concat,
  formatScenario,
  getStep,
  harnessImageFiles,
  renderArg,
  runScenarios,
  scenario,
  SCENARIO_TMP,
  ScenarioBuilder,
  ScenarioResults,
  ShellVar,
  shq,
  stepData,
  type Arg,
  type BackgroundStep,
  type DeviceInfo,
  type DeviceRef,
  type FindDeviceOptions,
  type LioLun,
  type LioLunOptions,
  type RunOptions,
  type RunScenariosOptions,
  type Scenario,
  type ScenarioResult,
  type ScsiDebugLoadOptions,
  type ScsiDebugParams,
  type Step,
  type StepOptions,
  type StepResult,
} from "./scenario.ts";
