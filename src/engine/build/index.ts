export type {
  ArgDefinition, ArgInstruction, CacheSharing, CmdInstruction, CommandLine, CopyInstruction, Dockerfile,
  EntrypointInstruction, EnvInstruction, ExposeInstruction, FromInstruction, HealthcheckInstruction, HealthcheckSpec,
  Heredoc, InlineSource, Instruction, InstructionKind, KeyValue, LabelInstruction, LineRange, MaintainerInstruction,
  MountType, NetworkMode, NodeBase, OnbuildInstruction, ParserDirectives, RunInstruction, RunMount, RunScript,
  SecurityMode, ShellInstruction, Stage, StopSignalInstruction, UserInstruction, VolumeInstruction, WorkdirInstruction,
} from './types.js';
export { DockerfileError, parseDockerfile, parseGoDuration, parseHeredocWord, parseRunMount } from './dockerfile.js';
export type { ParseOptions } from './dockerfile.js';
export { expand, expandDetailed, expandHeredocBody, expandWords } from './expand.js';
export type { EnvSource, ExpandOptions, ExpandResult } from './expand.js';
export { formatPlatform, platformArgs, PROXY_ARGS, resolveStageArg, resolveStages } from './stages.js';
export type { BuildPlan, Platform, ResolvedStage, ResolveOptions, StageBase, StageDependency } from './stages.js';
export { buildFilesToRemove, createMatcher, patternsForContextUpload, readDockerignore } from '../../lib/dockerignore/index.js';
export type { IgnoreMatcher } from '../../lib/dockerignore/index.js';
export {
  checkDestination, contextPath, isRemoteSource, matchesSource, parseChmod, parseChown, resolveDestination,
  sourcePattern, targetPath,
} from './copy-sources.js';
export type { Chown, Destination, IdSpec, SourcePattern } from './copy-sources.js';
export { cleanPath, goMatch, hasWildcards } from '../../lib/dockerignore/index.js';
export { Builder } from './builder.js';
export type { BuilderDeps, BuildCacheUsage } from './builder.js';
export type { BuildEvent, BuildEventFn, BuildOptions, BuildResult } from './events.js';
export { commitContainer } from './commit.js';
export { StepFailed } from './executor.js';
export type { CommitDeps, CommitOptions } from './commit.js';
export { BuildContext } from './context.js';
export { cacheKey } from './cache.js';
export { unmountUnder } from './rootfs.js';
