/**
 * The Kubernetes API simulator behind `aegis-ir drill` and the integration tests: a scenario file compiled into real
 * API objects, served over HTTP so that kubectl and @kubernetes/client-node talk to it as to a cluster.
 */
export { type KubeSimulator, type KubeSimulatorOptions, startKubeSimulator } from './server.js';
export { SANDBOX_CONTEXT } from './kubeconfig.js';
export { ObjectStore, type KubeObject, type ObjectMeta, type StoreEvent, type WriteOptions } from './store.js';
export { RESOURCE_TYPES, type ResourceType, findResourceType } from './resources.js';
export { ApiError } from './status.js';
export { type Scenario, ScenarioError, listScenarios, loadScenario, parseScenario } from './scenario/load.js';
export type { ScenarioDocument } from './scenario/schema.js';
export { type Clock, systemClock } from './time.js';
