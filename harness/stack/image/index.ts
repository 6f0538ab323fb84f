export { ensureImage, imageKey, planImage, type Image, type ImageOptions } from './build.ts';
export { cmirrordKey } from './cmirrord.ts';
export { GUEST_CMIRRORD, GUEST_LIBDEVMAPPER } from './assemble.ts';
