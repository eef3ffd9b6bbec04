import { errorLogsCheck } from '../../../src/checks/kubernetes/error-logs.js';
import { healthExecCheck } from '../../../src/checks/kubernetes/health-exec.js';
import { podHealthCheck } from '../../../src/checks/kubernetes/pod-health.js';
import { recentRolloutsCheck } from '../../../src/checks/kubernetes/recent-rollouts.js';
import { resourceUsageCheck } from '../../../src/checks/kubernetes/resource-usage.js';
import { describeEvaluations } from '../../helpers/fixtures.js';

describeEvaluations([podHealthCheck, resourceUsageCheck, recentRolloutsCheck, errorLogsCheck, healthExecCheck]);
