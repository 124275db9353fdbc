"""SAM templates -> functions, as ``sam local`` reads them (Globals and implicit APIs by AWS's
``aws-sam-translator``)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from lambdarig.project import load_project
from lambdarig.project.errors import ProjectError, TemplateError, UnresolvableError
from lambdarig.project.model import HttpRoute, Layer

# What `sam init` (Python, hello-world, HttpApi flavour of the quick start) writes.
SAM_INIT = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Description: >
  sam-app

  Sample SAM Template for sam-app

Globals:
  Function:
    Timeout: 3
    MemorySize: 128

Resources:
  HelloWorldFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: hello_world/
      Handler: app.lambda_handler
      Runtime: python3.13
      Architectures:
        - x86_64
      Events:
        HelloWorld:
          Type: Api
          Properties:
            Path: /hello
            Method: get

Outputs:
  HelloWorldApi:
    Description: "API Gateway endpoint URL for Prod stage for Hello World function"
    Value: !Sub "https://${ServerlessRestApi}.execute-api.${AWS::Region}.amazonaws.com/Prod/hello/"
  HelloWorldFunction:
    Description: "Hello World Lambda Function ARN"
    Value: !GetAtt HelloWorldFunction.Arn
  HelloWorldFunctionIamRole:
    Description: "Implicit IAM Role created for Hello World function"
    Value: !GetAtt HelloWorldFunctionRole.Arn
"""

FULL = """\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage:
    Type: String
    Default: dev
    AllowedValues: [dev, prod]
  Shared:
    Type: String
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Globals:
  HttpApi:
    Auth:
      Authorizers:
        TokenAuth:
          FunctionArn: !GetAtt Worker.Arn
          AuthorizerPayloadFormatVersion: "2.0"
  Function:
    Runtime: python3.12
    Timeout: 10
    Environment:
      Variables:
        STAGE: !Ref Stage
        QUEUE_URL: !Ref Queue
Resources:
  DepsLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layers/deps/
  Api:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: !Sub "${AWS::StackName}-api"
      CodeUri: src/
      Handler: app.handler
      MemorySize: !If [IsProd, 1024, 256]
      AutoPublishAlias: live
      ReservedConcurrentExecutions: 2
      Layers: [!Ref DepsLayer]
      Environment:
        Variables:
          TABLE: !Ref Table
          WORKER_ARN: !GetAtt Worker.Arn
      FunctionUrlConfig:
        AuthType: NONE
        InvokeMode: BUFFERED
      Events:
        Get:
          Type: HttpApi
          Properties:
            Path: /items/{id}
            Method: GET
            Auth:
              Authorizer: TokenAuth
        Legacy:
          Type: HttpApi
          Properties:
            Path: /v1/{proxy+}
            Method: ANY
            PayloadFormatVersion: "1.0"
        Queue:
          Type: SQS
          Properties:
            Queue: !GetAtt Queue.Arn
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: worker.handler
      EventInvokeConfig:
        MaximumRetryAttempts: 1
        DestinationConfig:
          OnFailure:
            Type: SQS
            Destination: !GetAtt Queue.Arn
  Image:
    Type: AWS::Serverless::Function
    Properties:
      PackageType: Image
      ImageUri: hello:latest
      Environment:
        Variables:
          IMPORTED: !ImportValue Nope
  ProdOnly:
    Type: AWS::Serverless::Function
    Condition: IsProd
    Properties:
      CodeUri: src/
      Handler: app.handler
  Queue:
    Type: AWS::SQS::Queue
  Table:
    Type: AWS::Serverless::SimpleTable
"""
# FULL without the one value that cannot resolve locally (an !ImportValue).
RESOLVABLE = FULL.replace(
    "      Environment:\n        Variables:\n          IMPORTED: !ImportValue Nope\n", ""
)


def write(tmp_path: Path, text: str, *dirs: str) -> Path:
    for directory in dirs:
        (tmp_path / directory).mkdir(parents=True, exist_ok=True)
    template = tmp_path / "template.yaml"
    template.write_text(text)
    return template


def test_sam_init_template(tmp_path: Path) -> None:
    project = load_project(write(tmp_path, SAM_INIT, "hello_world"), region="us-east-1")
    (function,) = project.functions
    assert function.logical_id == function.name == "HelloWorldFunction"
    assert (function.handler, function.runtime) == ("app.lambda_handler", "python3.13")
    assert function.code == (tmp_path / "hello_world").resolve()
    assert (function.timeout_s, function.memory_mb) == (3, 128)
    assert function.routes == (
        HttpRoute("HelloWorld", "rest", "GET", "/hello", "ServerlessRestApi", "Prod", "1.0"),
    )
    assert project.stack_name == tmp_path.name


def test_globals_parameters_layers_alias_and_events(tmp_path: Path) -> None:
    template = write(tmp_path, RESOLVABLE, "src", "layers/deps")
    project = load_project(
        template,
        region="eu-west-1",
        parameter_overrides={"Shared": "s"},
        stack_name="shop",
    )
    assert [f.logical_id for f in project.functions] == ["Api", "Worker", "Image"]
    api = project.function("shop-api")
    assert api.runtime == "python3.12" and api.timeout_s == 10 and api.memory_mb == 256
    assert api.environment == {
        "STAGE": "dev",
        "QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/Queue",
        "TABLE": "Table",
        "WORKER_ARN": "arn:aws:lambda:eu-west-1:123456789012:function:Worker",
    }
    assert api.layers == (Layer("DepsLayer", (tmp_path / "layers/deps").resolve()),)
    assert api.auto_publish_alias == "live" and api.reserved_concurrency == 2
    assert api.function_url == {"AuthType": "NONE", "InvokeMode": "BUFFERED"}
    get, legacy = api.routes
    assert (get.kind, get.method, get.path, get.stage, get.payload_format_version) == (
        "http",
        "GET",
        "/items/{id}",
        "$default",
        "2.0",
    )
    assert get.authorizer == "TokenAuth" and get.route_key == "GET /items/{id}"
    assert (legacy.method, legacy.path, legacy.payload_format_version) == (
        "ANY",
        "/v1/{proxy+}",
        "1.0",
    )
    assert [(e.event_id, e.type) for e in api.other_events] == [("Queue", "SQS")]
    worker = project.function("Worker")
    assert worker.event_invoke_config["DestinationConfig"]["OnFailure"]["Destination"] == (
        "arn:aws:sqs:eu-west-1:123456789012:Queue"
    )
    image = project.function("Image")
    assert (image.package_type, image.image_uri, image.code) == ("Image", "hello:latest", None)


def test_condition_includes_a_function_and_if_picks_a_value(tmp_path: Path) -> None:
    template = write(tmp_path, RESOLVABLE, "src", "layers/deps")
    project = load_project(
        template, region="us-east-1", parameter_overrides={"Stage": "prod", "Shared": "s"}
    )
    assert "ProdOnly" in [f.logical_id for f in project.functions]
    assert project.function("Api").memory_mb == 1024


def test_env_vars_file_overrides_declared_variables_only(tmp_path: Path) -> None:
    template = write(
        tmp_path,
        SAM_INIT.replace(
            "      Runtime: python3.13\n",
            "      Runtime: python3.13\n      Environment:\n        Variables:\n"
            "          A: one\n          B: two\n",
        ),
        "hello_world",
    )
    env_vars = {"Parameters": {"A": "all", "UNDECLARED": "x"}, "HelloWorldFunction": {"B": 2}}
    project = load_project(template, region="us-east-1", env_vars=env_vars)
    assert project.functions[0].environment == {"A": "all", "B": "2"}


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda t: t,
            "Resources.Image.Properties.Environment.Variables.IMPORTED: "
            "Fn::ImportValue has no local value",
        ),
        (
            lambda t: t.replace(
                "Layers: [!Ref DepsLayer]", "Layers: [arn:aws:lambda:us-east-1:1:layer:x:1]"
            ),
            "Resources.Api.Properties.Layers[0]: layer arn:aws:lambda:us-east-1:1:layer:x:1 is not "
            "a layer of this template: declare it as an AWS::Serverless::LayerVersion with "
            "ContentUri pointing at a local folder",
        ),
        (
            lambda t: t.replace(
                "CodeUri: src/\n      Handler: worker",
                "CodeUri: s3://bucket/key.zip\n      Handler: worker",
            ),
            "Resources.Worker.Properties.CodeUri: expected a local folder or .zip, "
            "got 's3://bucket/key.zip' (in S3)",
        ),
    ],
)
def test_what_cannot_run_locally_is_one_line(tmp_path: Path, edit, message: str) -> None:
    template = write(tmp_path, edit(FULL), "src", "layers/deps")
    with pytest.raises(UnresolvableError) as caught:
        load_project(template, region="us-east-1", parameter_overrides={"Shared": "s"})
    assert str(caught.value) == message


def test_parameter_errors(tmp_path: Path) -> None:
    template = write(tmp_path, FULL, "src", "layers/deps")
    with pytest.raises(TemplateError, match=r"declares \(Shared, Stage\), got Nope"):
        load_project(template, region="us-east-1", parameter_overrides={"Nope": "1"})
    with pytest.raises(TemplateError, match=r"Stage to be one of \['dev', 'prod'\], got 'qa'"):
        load_project(template, region="us-east-1", parameter_overrides={"Stage": "qa"})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Resources: [\n", "expected YAML in {path} at line 2, got: "),
        ('{"Resources": ', "expected JSON in {path}, got: "),
        (
            "Description: nothing\n",
            "expected a template with a Resources mapping, got none in {path}",
        ),
        (
            "Transform: AWS::Serverless-2016-10-31\nResources:\n  F:\n"
            "    Type: AWS::Serverless::Function\n    Properties:\n      Events:\n        E:\n"
            "          Type: Api\n          Properties: {Path: 1}\n",
            "expected a valid SAM template in {path}, got: ",
        ),
    ],
)
def test_bad_templates(tmp_path: Path, text: str, message: str) -> None:
    template = write(tmp_path, text)
    with pytest.raises(TemplateError) as caught:
        load_project(template, region="us-east-1")
    assert str(caught.value).startswith(message.format(path=template))
    assert "\n" not in str(caught.value)


def test_json_templates_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    template = tmp_path / "template.json"
    template.write_text(
        json.dumps(
            {
                "Resources": {
                    "F": {
                        "Type": "AWS::Lambda::Function",
                        "Properties": {"Code": "src", "Handler": "a.b", "Runtime": "python3.11"},
                    }
                }
            }
        )
    )
    (function,) = load_project(template, region="us-east-1").functions
    assert function.code == (tmp_path / "src").resolve()
    with pytest.raises(ProjectError, match="expected a readable template file"):
        load_project(tmp_path / "missing.yaml", region="us-east-1")


def test_short_form_tags(tmp_path: Path) -> None:
    from lambdarig.project.cfn_yaml import read_template

    path = tmp_path / "t.yaml"
    path.write_text(
        textwrap.dedent("""\
        Resources:
          X:
            Properties:
              A: !Ref P
              B: !GetAtt F.Arn
              C: !Sub "${P}"
              D: !Join [",", [a, b]]
              E: !If [C, 1, 2]
              G: !Select [0, !Split [",", "a,b"]]
        """)
    )
    props = read_template(path)["Resources"]["X"]["Properties"]
    assert props == {
        "A": {"Ref": "P"},
        "B": {"Fn::GetAtt": ["F", "Arn"]},
        "C": {"Fn::Sub": "${P}"},
        "D": {"Fn::Join": [",", ["a", "b"]]},
        "E": {"Fn::If": ["C", 1, 2]},
        "G": {"Fn::Select": [0, {"Fn::Split": [",", "a,b"]}]},
    }
