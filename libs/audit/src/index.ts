export { AUDITED_METADATA, eventHash, type HashableEvent } from './event-hash';
export { chainEvents } from './hash-chain';
export { verifyChains, type ChainProblem, type ChainReport, type VerifyOptions } from './chain-verifier';
export { checkProjection, type ProjectionCheckOptions, type ProjectionDifference, type ProjectionReport } from './projection-check';
