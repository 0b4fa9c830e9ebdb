// Connection arrows: one lyon-tessellated unit arrow (`ArrowVertex` in src/gpu/arrows.rs) drawn
// instanced along each edge (`GpuArrow`), as a flat ribbon turned towards the eye.

// Scalars only, so the array stride is the 32 bytes of `GpuArrow`.
struct PackedArrow {
    tail_x: f32,
    tail_y: f32,
    tail_z: f32,
    width: f32,
    tip_x: f32,
    tip_y: f32,
    tip_z: f32,
    // sRGB colour, 8 bits per channel from the lowest byte; alpha carries the fade.
    color: u32,
};

@group(1) @binding(0) var<storage, read> instances: array<PackedArrow>;

struct ArrowVarying {
    @builtin(position) clip: vec4<f32>,
    // Linear colour, converted once per vertex rather than per fragment; alpha is the fade.
    @location(0) @interpolate(flat) color: vec4<f32>,
};

// Head length in shaft widths, and the longest share of an arrow a head takes; mirror
// `HEAD_LENGTH` and `MAX_HEAD_SHARE` in src/gpu/arrows.rs.
const HEAD_LENGTH: f32 = 4.0;
const MAX_HEAD_SHARE: f32 = 0.4;

@vertex
fn vs_arrow(@builtin(vertex_index) vertex_index: u32) -> ArrowVarying {
    let arrow = instances[vertex_index / shape_len()];
    // x: 0 when the vertex hangs off the tail, 1 off the tip; yz: offset from there in shaft
    // widths, along the arrow and across it.
    let vertex = shape_vertices[vertex_index % shape_len()];
    let tail = vec3<f32>(arrow.tail_x, arrow.tail_y, arrow.tail_z);
    let tip = vec3<f32>(arrow.tip_x, arrow.tip_y, arrow.tip_z);
    var out: ArrowVarying;
    let srgb = unpack4x8unorm(arrow.color);
    out.color = vec4<f32>(srgb_to_linear(srgb.rgb), srgb.a);
    let axis = tip - tail;
    let arrow_length = length(axis);
    let direction = axis / max(arrow_length, 1e-20);
    let anchor = mix(tail, tip, vertex.x);
    // Thin arrows keep at least `output.y` pixels of width so they never vanish between pixels.
    let anchor_depth = (frame.view_proj * vec4<f32>(anchor, 1.0)).w;
    let pixel = max(anchor_depth, 0.0) * frame.camera_position.w;
    let width = max(arrow.width * fade_scale(out.color.a), frame.output.y * pixel);
    // Short arrows get shorter heads.
    let along_unit = min(width, MAX_HEAD_SHARE * arrow_length / HEAD_LENGTH);
    let to_eye = frame.camera_position.xyz - anchor;
    var across = cross(direction, to_eye);
    let across_length = length(across);
    if across_length < 1e-12 {
        across = frame.camera_right.xyz;
    } else {
        across = across / across_length;
    }
    let world = anchor + direction * (vertex.y * along_unit) + across * (vertex.z * width);
    out.clip = frame.view_proj * vec4<f32>(world, 1.0);
    return out;
}

// Fully opaque arrows (most of them): no `discard`, so the rasteriser may test depth before
// shading.
@fragment
fn fs_arrow(in: ArrowVarying) -> @location(0) vec4<f32> {
    return encode_output(in.color.rgb);
}

// Arrows fading in or out, drawn by a second pipeline.
@fragment
fn fs_arrow_fading(in: ArrowVarying) -> @location(0) vec4<f32> {
    if dithered_out(in.clip.xy, in.color.a) {
        discard;
    }
    return encode_output(in.color.rgb);
}
