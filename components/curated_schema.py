"""CuratedSchemaGen: the curated schema, carried by its content rather than its path.

TFX's ImportSchemaGen takes a file path: its cache key is that path, so editing the
schema in place reran nothing, and a compiled Kubeflow/Vertex spec carried a path of
the machine that compiled it. This component takes the schema's text as a parameter
instead. The cache key is then the content, and the spec is self-contained: the
schema travels inside it, whatever machine or image runs the step. It writes the
Schema artifact exactly as ImportSchemaGen does (`schema.pbtxt`), so ExampleValidator,
Transform and the Trainer read it unchanged.
"""

import os

from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2
from tfx.dsl.component.experimental.annotations import OutputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types import standard_artifacts
from tfx.utils import io_utils

from data import schemas

SCHEMA_FILE = "schema.pbtxt"  # the file name ImportSchemaGen writes and SchemaReader reads


def parse_schema(text: str, origin: str) -> schema_pb2.Schema:
    """The schema proto, or a ValueError naming the file and the parse error."""
    try:
        return schemas.parse(text)
    except text_format.ParseError as error:
        raise ValueError(f"the curated schema {origin} is not a valid schema.pbtxt: {error}") from error


@component
def CuratedSchemaGen(
    schema: OutputArtifact[standard_artifacts.Schema],
    schema_text: Parameter[str],
    origin: Parameter[str],
) -> None:
    """Writes `schema_text` (a schema.pbtxt, read from `origin` when the pipeline was built)."""
    io_utils.write_pbtxt_file(os.path.join(schema.uri, SCHEMA_FILE), parse_schema(schema_text, origin))
    schema.set_string_custom_property("origin", origin)
