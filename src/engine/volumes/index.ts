export { VolumeService } from './service.js';
export type { VolumeServiceOptions } from './service.js';
export { checkVolumeName, anonymousName } from './names.js';
export { planMounts, inheritMounts, parseVolumesFrom } from './container-mounts.js';
export { parseLocalOptions } from './local-driver.js';
export { ANONYMOUS_LABEL } from './types.js';
export type { VolumeRecord, CreateVolumeOptions, MountPoint, VolumeSpecMount, ContainerMountConfig, ContainerVolumes } from './types.js';
