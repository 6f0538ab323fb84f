export { ensureKernel, kernelKey, planKernel, type Kernel, type KernelOptions } from './build.ts';
