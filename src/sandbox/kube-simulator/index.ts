/**
 * The Kubernetes API simulator behind `aegis-ir drill` and the integration tests: a scenario file compiled into real
 * API objects, served over HTTP so that kubectl and @kubernetes/client-node talk to it as to a cluster.
 */
export { type KubeSimulator, type KubeSimulatorOptions, startKubeSimulator } from './server.js';
export type { KubeObject } from './store.js';
export { type Scenario, ScenarioError, listScenarios, loadScenario, parseScenario } from './scenario/load.js';
export type { ScenarioDocument } from './scenario/schema.js';
export type { Clock } from './time.js';
