// Shared by every wiredraw shader: the renderer prepends this file to each pipeline's source.

// Per-frame constants. Mirrors `FrameUniforms` in wiredraw-render/src/gpu/frame.rs.
struct Frame {
    view_proj: mat4x4<f32>,
    // xyz: eye position. w: world-space size of one pixel at view depth 1.
    camera_position: vec4<f32>,
    camera_right: vec4<f32>,
    camera_up: vec4<f32>,
    // xyz: unit vector towards the key light.
    light_direction: vec4<f32>,
    selection_color: vec4<f32>,
    hover_color: vec4<f32>,
    alert_color: vec4<f32>,
    // x: 1 when the target is not sRGB and the shader must encode, y: minimum arrow width in pixels.
    output: vec4<f32>,
};

@group(0) @binding(0) var<uniform> frame: Frame;

// Vertex pulling (src/gpu/instance_buffer.rs): each file declares its `instances` array at
// group 1, binding 0; one instance's triangle-list vertices are these, and vertex `i` of a draw
// is vertex `i % shape_len()` of instance `i / shape_len()`.
@group(1) @binding(1) var<storage, read> shape_vertices: array<vec4<f32>>;

fn shape_len() -> u32 {
    return arrayLength(&shape_vertices);
}

const STATE_HOVERED: u32 = 1u;
const STATE_SELECTED: u32 = 2u;
const STATE_DIMMED: u32 = 4u;
const STATE_FLAGGED: u32 = 8u;

fn srgb_to_linear(c: vec3<f32>) -> vec3<f32> {
    let low = c / 12.92;
    let high = pow((c + 0.055) / 1.055, vec3<f32>(2.4));
    return select(high, low, c <= vec3<f32>(0.04045));
}

fn linear_to_srgb(c: vec3<f32>) -> vec3<f32> {
    let low = c * 12.92;
    let high = 1.055 * pow(c, vec3<f32>(1.0 / 2.4)) - 0.055;
    return select(high, low, c <= vec3<f32>(0.0031308));
}

// Colours are computed in linear space; a non-sRGB target gets them encoded here so every target
// shows the same picture.
fn encode_output(c: vec3<f32>) -> vec4<f32> {
    if frame.output.x > 0.5 {
        return vec4<f32>(linear_to_srgb(c), 1.0);
    }
    return vec4<f32>(c, 1.0);
}

// Appearing and disappearing objects grow from 30 % of their size while they fade.
fn fade_scale(fade: f32) -> f32 {
    return mix(0.3, 1.0, clamp(fade, 0.0, 1.0));
}

// Screen-door transparency: a 4x4 ordered dither drops a `1 - fade` share of the fragments.
// It needs neither sorting nor blending, so depth testing stays exact.
fn dithered_out(frag_xy: vec2<f32>, fade: f32) -> bool {
    let x = u32(frag_xy.x) & 3u;
    let y = u32(frag_xy.y) & 3u;
    let a = x ^ y;
    let rank = ((a & 1u) << 3u) | ((y & 1u) << 2u) | (a & 2u) | ((y & 2u) >> 1u);
    return fade < (f32(rank) + 0.5) / 16.0;
}
