export { NodeKernel, KERNEL_LIMITS_DEFAULT, type ClientCommand, type KernelLimits, type KernelOptions } from './kernel.js';
export type { KernelIo, KernelObserver, StateMachine, WriteJob } from './io.js';
export { RequestError, requestErrorOf, type RequestErrorCode } from './request-error.js';
export { answerOk, answerError, type Answer, type Reply } from './answer.js';
export { KERNEL_UNSAFE_NONE, type KernelUnsafeSwitches } from './unsafe.js';
