// Validates Kubernetes manifests against the API's JSON schemas, offline,
// with the kubernetes-models package (types, required fields, enums).
// usage: NODE_PATH=.tools/node_modules node validate-k8s.js FILE...
"use strict";
const fs = require("fs");
const yaml = require("js-yaml");

const models = {
  "v1/ConfigMap": require("kubernetes-models/v1").ConfigMap,
  "v1/Secret": require("kubernetes-models/v1").Secret,
  "v1/Service": require("kubernetes-models/v1").Service,
  "apps/v1/Deployment": require("kubernetes-models/apps/v1").Deployment,
  "autoscaling/v2/HorizontalPodAutoscaler":
    require("kubernetes-models/autoscaling/v2").HorizontalPodAutoscaler,
};

let failed = 0;
let checked = 0;
for (const file of process.argv.slice(2)) {
  for (const doc of yaml.loadAll(fs.readFileSync(file, "utf8"))) {
    if (doc === null || doc.kind === "Kustomization") continue;
    const key = `${doc.apiVersion}/${doc.kind}`;
    const Model = models[key];
    try {
      if (!Model) throw new Error(`no schema known for ${key}`);
      new Model(doc).validate();
      checked++;
    } catch (e) {
      failed++;
      console.log(`${file}: ${key} ${doc.metadata && doc.metadata.name}: ${e.message}`);
    }
  }
}
console.log(`${checked} objects valid, ${failed} invalid`);
process.exit(failed || checked === 0 ? 1 : 0);
