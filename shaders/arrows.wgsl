// Connection arrows: one lyon-tessellated unit arrow (`ArrowVertex` in src/gpu/arrows.rs) drawn
// instanced along each edge (`GpuArrow`), as a flat ribbon turned towards the eye.

struct ArrowVertex {
    // 0: the vertex hangs off the tail, 1: off the tip.
    @location(0) anchor: f32,
    // Offset from the anchor in shaft widths: x along the arrow, y across it.
    @location(1) offset: vec2<f32>,
};

struct ArrowInstance {
    @location(2) tail: vec3<f32>,
    @location(3) width: f32,
    @location(4) tip: vec3<f32>,
    // sRGB colour; alpha carries the fade.
    @location(5) color: vec4<f32>,
};

struct ArrowVarying {
    @builtin(position) clip: vec4<f32>,
    @location(0) @interpolate(flat) color: vec4<f32>,
};

// Head length in shaft widths; mirrors `HEAD_LENGTH` in src/gpu/arrows.rs.
const HEAD_LENGTH: f32 = 4.0;

@vertex
fn vs_arrow(vertex: ArrowVertex, arrow: ArrowInstance) -> ArrowVarying {
    var out: ArrowVarying;
    out.color = arrow.color;
    let axis = arrow.tip - arrow.tail;
    let arrow_length = length(axis);
    let direction = axis / max(arrow_length, 1e-20);
    let anchor = mix(arrow.tail, arrow.tip, vertex.anchor);
    // Thin arrows keep at least `output.y` pixels of width so they never vanish between pixels.
    let anchor_depth = (frame.view_proj * vec4<f32>(anchor, 1.0)).w;
    let pixel = max(anchor_depth, 0.0) * frame.camera_position.w;
    let width = max(arrow.width * fade_scale(arrow.color.a), frame.output.y * pixel);
    // Short arrows get shorter heads: a head never takes more than 40 % of the arrow.
    let along_unit = min(width, 0.4 * arrow_length / HEAD_LENGTH);
    let to_eye = frame.camera_position.xyz - anchor;
    var across = cross(direction, to_eye);
    let across_length = length(across);
    if across_length < 1e-12 {
        across = frame.camera_right.xyz;
    } else {
        across = across / across_length;
    }
    let world = anchor + direction * (vertex.offset.x * along_unit) + across * (vertex.offset.y * width);
    out.clip = frame.view_proj * vec4<f32>(world, 1.0);
    return out;
}

@fragment
fn fs_arrow(in: ArrowVarying) -> @location(0) vec4<f32> {
    if dithered_out(in.clip.xy, in.color.a) {
        discard;
    }
    return encode_output(srgb_to_linear(in.color.rgb));
}
