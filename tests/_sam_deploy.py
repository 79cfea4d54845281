"""Deploys a SAM template to an AWS API emulator (moto), as `sam deploy` would:
the local zips it names are uploaded to S3 (what `sam package` does), the SAM
transform runs here with AWS's own translator (samtranslator, which cfn-lint
brings), because moto's CloudFormation does not run transforms, and the
transformed template is created as a stack. moto models some resource types
only (no API Gateway v2, no function URL): those it skips, and the outputs
that read them are left out here, and listed as "unmodelled". moto's stack
also drops a function's layers and architecture, so the function's
properties are printed as CloudFormation would resolve them from the
transformed template, with the conditions evaluated for the parameters: by
this helper's own resolver (resolver() below), not by moto.
Prints the stack's outputs and resources as JSON.

usage: _sam_deploy.py TEMPLATE STACK_NAME '{"Parameter": "value", ...}'
Reads AWS_ENDPOINT_URL, AWS_REGION and the credentials from the environment.
"""
import hashlib
import json
import os
import sys

import boto3
from cfnlint.decode import decode
from moto.cloudformation.parsing import get_model_map
from samtranslator.translator.transform import transform

BUCKET = "sam-artifacts"
# The one managed policy the template's function role needs, as IAM names it.
MANAGED_POLICIES = {
    "AWSLambdaBasicExecutionRole": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
}


class Policies:
    """What samtranslator asks its managed policy loader for."""

    def load(self):
        return MANAGED_POLICIES


def package(template, base, s3):
    """Uploads each local ContentUri and CodeUri, whatever the resource's
    condition, under the MD5 of its content, and points the template at S3,
    as sam package does."""
    s3.create_bucket(Bucket=BUCKET)
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        for key in ("ContentUri", "CodeUri"):
            uri = props.get(key)
            if isinstance(uri, str) and not uri.startswith("s3://"):
                path = os.path.normpath(os.path.join(base, uri))
                with open(path, "rb") as f:
                    md5 = hashlib.md5(f.read()).hexdigest()
                s3.upload_file(path, BUCKET, md5)
                props[key] = f"s3://{BUCKET}/{md5}"


def resolver(template, params):
    """Resolves Fn::If, Ref to a parameter, and conditions, as CloudFormation
    would: a function resolving a value, and one telling whether a condition holds."""
    conditions = template.get("Conditions", {})

    def condition(name):
        return name is None or holds(conditions[name])

    def holds(c):
        (fn, args), = c.items()
        if fn == "Fn::Equals":
            return resolve(args[0]) == resolve(args[1])
        if fn == "Fn::And":
            return all(holds(a) for a in args)
        if fn == "Fn::Or":
            return any(holds(a) for a in args)
        if fn == "Fn::Not":
            return not holds(args[0])
        if fn == "Condition":
            return condition(args)
        raise ValueError(f"unknown condition {fn}")

    def resolve(v):
        if isinstance(v, list):
            return [resolve(x) for x in v]
        if isinstance(v, dict):
            if list(v) == ["Fn::If"]:
                name, then, other = v["Fn::If"]
                return resolve(then if condition(name) else other)
            if list(v) == ["Ref"] and v["Ref"] in params:
                return params[v["Ref"]]
            return {k: resolve(x) for k, x in v.items()}
        return v

    return resolve, condition


def mentions(value, names):
    """Whether an output's value refers (Ref, GetAtt, Sub) to one of the resources named."""
    text = json.dumps(value)
    return any(f'"{n}"' in text or f'"{n}.' in text or "${" + n in text for n in names)


def main():
    template_path, stack, params = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    template, problems = decode(template_path)
    if problems:
        sys.exit(f"cannot read {template_path}: {problems}")
    session = boto3.session.Session()
    package(template, os.path.dirname(template_path), session.client("s3"))
    defaults = {k: v.get("Default") for k, v in template.get("Parameters", {}).items()}
    values = {**defaults, **params, "AWS::Region": session.region_name}
    transformed = transform(template, values, Policies())
    modelled = get_model_map()
    skipped = [n for n, r in transformed["Resources"].items() if r["Type"] not in modelled]
    unmodelled = [k for k, v in transformed.get("Outputs", {}).items() if mentions(v, skipped)]
    for key in unmodelled:
        del transformed["Outputs"][key]
    cfn = session.client("cloudformation")
    cfn.create_stack(
        StackName=stack,
        TemplateBody=json.dumps(transformed),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    cfn.get_waiter("stack_create_complete").wait(StackName=stack)
    resolve, condition = resolver(transformed, values)

    def resolved(kind):
        """The properties of the resources of a type the stack creates, resolved."""
        return {n: resolve(r["Properties"]) for n, r in transformed["Resources"].items()
                if r["Type"] == kind and condition(r.get("Condition"))}

    described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    resources = cfn.describe_stack_resources(StackName=stack)["StackResources"]
    print(json.dumps({
        "status": described["StackStatus"],
        "outputs": {o["OutputKey"]: o.get("OutputValue") for o in described.get("Outputs", [])},
        # moto lists the resources it skipped without their names.
        "resources": {r["LogicalResourceId"]: {
            "type": r["ResourceType"], "id": r.get("PhysicalResourceId"),
        } for r in resources if "LogicalResourceId" in r},
        "types": sorted({r["Type"] for r in transformed["Resources"].values()}),
        "unmodelled": {"resources": skipped, "outputs": unmodelled},
        "functions": resolved("AWS::Lambda::Function"),
        "permissions": resolved("AWS::Lambda::Permission"),
        "urls": resolved("AWS::Lambda::Url"),
        "httpApis": resolved("AWS::ApiGatewayV2::Api"),
    }, indent=2))


if __name__ == "__main__":
    main()
