// Generated from the schemas of config.ts: every key's default, as a configuration with no key resolves it.
// A run takes each key it is not given from here, without building that key's schema. test/core/config.test.ts
// fails when this differs from the schemas; after changing a default, regenerate it with
//   AEGIS_UPDATE_GOLDENS=1 npx vitest run test/core/config.test.ts
import type { Config } from './config.js';

export const CONFIG_DEFAULTS: Config = {
  "namespace": "aegis",
  "output": "text",
  "failOn": "SEV4",
  "timeout": 30000,
  "checkTimeout": 10000,
  "app": {
    "deployment": "aegis-api",
    "selector": "app=aegis-api",
    "healthCommand": [
      "./aegis",
      "health"
    ],
    "productionNamespaces": [
      "aegis"
    ]
  },
  "triage": {
    "logTailLines": 100,
    "logConcurrency": 4,
    "logPods": 50,
    "logSamples": 3,
    "rolloutWindow": 3600000,
    "restartWindow": 3600000
  },
  "prometheus": {
    "requestTimeout": 5000,
    "rateWindow": 300000,
    "trendWindow": 3600000,
    "trendStep": 30000,
    "metrics": {
      "requests": "aegis_http_requests_total",
      "duration": "aegis_http_request_duration_seconds",
      "findingsActive": "aegis_findings_active",
      "health": "aegis_health_status"
    },
    "matchers": [],
    "statusLabel": "status",
    "errorStatus": "5..",
    "routeLabels": [
      "route",
      "handler",
      "endpoint"
    ],
    "componentLabel": "component"
  },
  "database": {
    "connectTimeout": 5000,
    "statementTimeout": 10000,
    "idleOlderThan": 600000,
    "pool": {
      "configMap": "aegis-api-config",
      "key": "config.yaml#database.pool_max"
    }
  },
  "aiProvider": {
    "providers": [
      {
        "name": "anthropic",
        "statusPage": "https://status.claude.com"
      },
      {
        "name": "openai",
        "statusPage": "https://status.openai.com"
      }
    ],
    "configMap": "aegis-api-config",
    "logTailLines": 500,
    "keys": {
      "fallback": "config.yaml#ai.fallback_provider",
      "timeout": "config.yaml#ai.timeout",
      "cache": "config.yaml#ai.cache.enabled",
      "mode": "config.yaml#ai.mode"
    }
  },
  "memory": {
    "trendWindow": 3600000,
    "leakHorizon": 3600000,
    "topN": 10,
    "pprof": {
      "port": 6060,
      "path": "/debug/pprof/heap"
    },
    "batchSize": {
      "configMap": "aegis-api-config",
      "key": "config.yaml#processing.batch_size"
    }
  },
  "remediation": {
    "caps": {}
  },
  "audit": {},
  "monitoring": {
    "for": 300000
  },
  "incident": {
    "store": "local",
    "updateEvery": 900000
  },
  "escalation": {
    "contacts": {}
  },
  "notify": {
    "slack": {
      "apiUrl": "https://slack.com/api"
    },
    "pagerduty": {
      "eventsUrl": "https://events.pagerduty.com"
    },
    "statuspage": {
      "apiUrl": "https://api.statuspage.io",
      "components": [],
      "componentStatus": "major_outage"
    }
  },
  "thresholds": {
    "errorRate": {
      "sev3": 0.001,
      "sev2": 0.5,
      "sev1": 0.95
    },
    "latencyP99": 500,
    "connectionSaturation": 0.8,
    "crashLoopShare": 0.5,
    "memoryOfLimit": 0.9,
    "cpuOfLimit": 0.9,
    "aiErrorLines": 5
  }
};
