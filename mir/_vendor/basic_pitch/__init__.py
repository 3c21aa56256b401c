#!/usr/bin/env python
# encoding: utf-8
#
# Copyright 2022 Spotify AB
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

# Vendored from basic-pitch 0.4.0 (see mir/_vendor/README.md). Changed: the upstream
# __init__ probes TensorFlow, CoreML, TFLite and onnxruntime and warns through the root
# logger about each one it does not find; here only the ONNX model is shipped and used.

import enum
import pathlib

CT_PRESENT = False
TFLITE_PRESENT = False
TF_PRESENT = False
ONNX_PRESENT = True


class FilenameSuffix(enum.Enum):
    onnx = "nmp.onnx"


def build_icassp_2022_model_path(suffix: FilenameSuffix) -> pathlib.Path:
    return pathlib.Path(__file__).parent / "saved_models/icassp_2022" / suffix.value


ICASSP_2022_MODEL_PATH = build_icassp_2022_model_path(FilenameSuffix.onnx)
