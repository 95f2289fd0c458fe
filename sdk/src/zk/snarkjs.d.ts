// snarkjs 0.7 ships no type declarations: the part of its API the sdk and circuits/scripts use.
declare module 'snarkjs' {
  export type NumericString = string;
  export interface Groth16Proof {
    pi_a: NumericString[];
    pi_b: NumericString[][];
    pi_c: NumericString[];
    protocol: string;
    curve: string;
  }
  export interface SnarkjsLogger {
    log(...args: unknown[]): void;
    info(...args: unknown[]): void;
    debug(...args: unknown[]): void;
    warn(...args: unknown[]): void;
    error(...args: unknown[]): void;
  }
  /** A file name, or its bytes (`{ type: 'mem', data }`). */
  export type FileRef = string | Uint8Array | { type: 'mem'; data: Uint8Array };
  export interface Curve {
    terminate(): Promise<void>;
  }
  export const groth16: {
    fullProve(input: Record<string, unknown>, wasm: FileRef, zkey: FileRef, logger?: SnarkjsLogger): Promise<{ proof: Groth16Proof; publicSignals: NumericString[] }>;
    prove(zkey: FileRef, witness: FileRef, logger?: SnarkjsLogger): Promise<{ proof: Groth16Proof; publicSignals: NumericString[] }>;
    verify(verificationKey: object, publicSignals: readonly (NumericString | bigint)[], proof: Groth16Proof, logger?: SnarkjsLogger): Promise<boolean>;
    exportSolidityCallData(proof: Groth16Proof, publicSignals: readonly NumericString[]): Promise<string>;
  };
  export const wtns: {
    calculate(input: Record<string, unknown>, wasm: FileRef, wtns: FileRef, options?: object): Promise<void>;
  };
  export const r1cs: {
    info(r1csName: string, logger?: SnarkjsLogger): Promise<{ nConstraints: number; nVars: number; nPubInputs: number; nPrvInputs: number; nOutputs: number }>;
  };
  export const powersOfTau: {
    newAccumulator(curve: Curve, power: number, fileName: string, logger?: SnarkjsLogger): Promise<unknown>;
    beacon(oldPtau: string, newPtau: string, name: string, beaconHashHex: string, numIterationsExp: number, logger?: SnarkjsLogger): Promise<unknown>;
    preparePhase2(oldPtau: string, newPtau: string, logger?: SnarkjsLogger): Promise<unknown>;
  };
  export const zKey: {
    newZKey(r1csName: string, ptauName: string, zkeyName: string, logger?: SnarkjsLogger): Promise<unknown>;
    beacon(oldZkey: string, newZkey: string, name: string, beaconHashHex: string, numIterationsExp: number, logger?: SnarkjsLogger): Promise<unknown>;
    exportVerificationKey(zkeyName: FileRef, logger?: SnarkjsLogger): Promise<Record<string, unknown>>;
    exportSolidityVerifier(zkeyName: FileRef, templates: { groth16: string }, logger?: SnarkjsLogger): Promise<string>;
  };
  export const curves: {
    getCurveFromName(name: string): Promise<Curve>;
  };
}
