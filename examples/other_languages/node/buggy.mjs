// Bug: finishSecret moves AWSCURRENT without naming the version it comes from.
//
// UpdateSecretVersionStage moves a label that another version holds only when RemoveFromVersionId
// names that version; otherwise AWS answers InvalidParameterException. Every attempt fails at
// finishSecret and the secret is left with AWSPENDING. The other steps are index.mjs's.
import {
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from "@aws-sdk/client-secrets-manager";
import { rotate, STEPS } from "./index.mjs";

const client = new SecretsManagerClient({ endpoint: process.env.SECRETS_MANAGER_ENDPOINT });

export const handler = (event) => rotate(event, { ...STEPS, finishSecret });

async function finishSecret(arn, token) {
  // BUG: RemoveFromVersionId (the version that holds AWSCURRENT now) is missing.
  await client.send(
    new UpdateSecretVersionStageCommand({
      SecretId: arn,
      VersionStage: "AWSCURRENT",
      MoveToVersionId: token,
    }),
  );
}
