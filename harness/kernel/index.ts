export { ensureKernel, kernelKey, type Kernel, type KernelOptions } from './build.ts';
