/**
 * Just enough ONNX building (onnx-proto's generated protobuf classes) for the models
 * this project generates: the offline encoder and the benchmark's MiniLM-shaped model.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export const FLOAT = onnx.TensorProto.DataType.FLOAT;
export const INT64 = onnx.TensorProto.DataType.INT64;

/** An initializer; raw bytes are little-endian, as on every platform onnxruntime-node ships for. */
export function tensor(name: string, dims: readonly number[], data: Float32Array | BigInt64Array) {
  return onnx.TensorProto.create({
    name,
    dims: [...dims],
    dataType: data instanceof Float32Array ? FLOAT : INT64,
    rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  });
}

/** A graph input or output; a string dimension is symbolic (`batch`, `seq`). */
export function valueInfo(name: string, elemType: number, dims: readonly (number | string)[]) {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  });
}

type Attribute = number | number[] | string;

export function node(opType: string, inputs: string[], outputs: string[], attributes: Record<string, Attribute> = {}) {
  return onnx.NodeProto.create({
    opType,
    input: inputs,
    output: outputs,
    name: `${opType}_${outputs[0]}`,
    attribute: Object.entries(attributes).map(([name, value]) =>
      typeof value === 'string'
        ? { name, type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(value) }
        : Array.isArray(value)
          ? { name, type: onnx.AttributeProto.AttributeType.INTS, ints: value }
          : Number.isInteger(value)
            ? { name, type: onnx.AttributeProto.AttributeType.INT, i: value }
            : { name, type: onnx.AttributeProto.AttributeType.FLOAT, f: value },
    ),
  });
}

export type Graph = {
  name: string;
  inputs: ReturnType<typeof valueInfo>[];
  outputs: ReturnType<typeof valueInfo>[];
  nodes: ReturnType<typeof node>[];
  initializers: ReturnType<typeof tensor>[];
  opset?: number;
};

export function buildModel(g: Graph): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'tastematch-gateway',
    opsetImport: [{ domain: '', version: g.opset ?? 17 }],
    graph: { name: g.name, input: g.inputs, output: g.outputs, node: g.nodes, initializer: g.initializers },
  });
  return onnx.ModelProto.encode(model).finish();
}
