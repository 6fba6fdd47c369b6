// A rotation function for a JSON {"username", "password"} secret, written as AWS's rotation
// templates are: every step checks the token first, and every step is safe to run again with the
// same token, because Secrets Manager retries a failed rotation from createSecret.
//
// The protected service is out of scope here: setSecret and testSecret only check the pending
// value. A real rotator changes the password in its database in setSecret and logs in with it in
// testSecret.
import {
  SecretsManagerClient,
  DescribeSecretCommand,
  GetSecretValueCommand,
  GetRandomPasswordCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
  ResourceNotFoundException,
} from "@aws-sdk/client-secrets-manager";

// Built once per execution environment, as in Lambda; the endpoint is the one Lambda's rotation
// templates use.
const client = new SecretsManagerClient({ endpoint: process.env.SECRETS_MANAGER_ENDPOINT });

export const handler = (event) => rotate(event, STEPS);

// The checks every step starts with, then the step itself from `steps`.
export async function rotate(event, steps) {
  const { SecretId: arn, ClientRequestToken: token, Step: step } = event;
  const metadata = await client.send(new DescribeSecretCommand({ SecretId: arn }));
  if (!metadata.RotationEnabled) {
    throw new Error(`Secret ${arn} is not enabled for rotation`);
  }
  const versions = metadata.VersionIdsToStages ?? {};
  if (!(token in versions)) {
    throw new Error(`Secret version ${token} has no stage for rotation of secret ${arn}.`);
  }
  if (versions[token].includes("AWSCURRENT")) {
    console.log(`Secret version ${token} already set as AWSCURRENT for secret ${arn}.`);
    return;
  }
  if (!versions[token].includes("AWSPENDING")) {
    throw new Error(`Secret version ${token} not set as AWSPENDING for rotation of secret ${arn}.`);
  }
  if (!(step in steps)) {
    throw new Error(`Invalid step parameter ${step}`);
  }
  await steps[step](arn, token);
}

export async function createSecret(arn, token) {
  const current = await secretValue({ SecretId: arn, VersionStage: "AWSCURRENT" });
  try {
    await client.send(
      new GetSecretValueCommand({ SecretId: arn, VersionId: token, VersionStage: "AWSPENDING" }),
    );
    console.log(`createSecret: version ${token} already has a value`);
    return;
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  const { RandomPassword: password } = await client.send(
    new GetRandomPasswordCommand({ PasswordLength: 32, ExcludeCharacters: "/@\"'\\" }),
  );
  await client.send(
    new PutSecretValueCommand({
      SecretId: arn,
      ClientRequestToken: token,
      SecretString: JSON.stringify({ ...current, password }),
      VersionStages: ["AWSPENDING"],
    }),
  );
  console.log(`createSecret: stored a new password in version ${token}`);
}

export async function setSecret(arn, token) {
  await secretValue({ SecretId: arn, VersionId: token, VersionStage: "AWSPENDING" });
}

export async function testSecret(arn, token) {
  const pending = await secretValue({ SecretId: arn, VersionId: token, VersionStage: "AWSPENDING" });
  if (!pending.password) {
    throw new Error(`testSecret: version ${token} of ${arn} has no password`);
  }
}

export async function finishSecret(arn, token) {
  const metadata = await client.send(new DescribeSecretCommand({ SecretId: arn }));
  const current = Object.entries(metadata.VersionIdsToStages ?? {}).find(([, stages]) =>
    stages.includes("AWSCURRENT"),
  )?.[0];
  if (current === token) return;
  await client.send(
    new UpdateSecretVersionStageCommand({
      SecretId: arn,
      VersionStage: "AWSCURRENT",
      MoveToVersionId: token,
      RemoveFromVersionId: current,
    }),
  );
  console.log(`finishSecret: version ${token} is now AWSCURRENT`);
}

export const STEPS = { createSecret, setSecret, testSecret, finishSecret };

async function secretValue(selector) {
  const { SecretString } = await client.send(new GetSecretValueCommand(selector));
  return JSON.parse(SecretString);
}
