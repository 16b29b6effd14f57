// Validate custom resources against the schemas of their CRDs, as generated into @kubernetes-models.
// stdin: a JSON array of objects; stdout: a JSON array with, per object, its errors ([] when valid).
// An object of a kind with no validator here is an error too, so nothing passes unchecked.
import { readFileSync } from "node:fs";
import * as gatewayV1 from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1";
import * as traefikV1alpha1 from "@kubernetes-models/traefik/traefik.io/v1alpha1";

const groups = {
  "gateway.networking.k8s.io/v1": gatewayV1,
  "traefik.io/v1alpha1": traefikV1alpha1,
};

const objects = JSON.parse(readFileSync(0, "utf8"));
const results = objects.map((object) => {
  const Model = groups[object.apiVersion]?.[object.kind];
  if (typeof Model !== "function") {
    return [`no CRD schema for ${object.apiVersion} ${object.kind}`];
  }
  try {
    new Model(object).validate();
    return [];
  } catch (error) {
    return [String(error.message ?? error)];
  }
});
process.stdout.write(JSON.stringify(results));
