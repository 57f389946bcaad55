"""Head pose from landmarks: cv2.solvePnP of a generic 3D face on the 9 rigid points of dlib's 68.

Sign conventions (degrees, with the camera as the point of reference, as Rekognition states its pose):
- yaw > 0: the face is turned towards the image's right (the person's own left); a frontal face is 0.
- pitch > 0: the face tilts up (chin up, looking above the camera).
- roll > 0: the face is rotated clockwise in the image (its eye on the image's right is the lower one).
Angles are taken relative to the line from the camera to the face, so a face looking into the lens is 0, 0, 0
wherever it sits in the frame. The camera is a pinhole with its focal length equal to the image's longer side,
centred, with no distortion.

Only the nose and the eye corners are used: they do not move with expressions, where the mouth corners (which
rise in a smile) and the chin (which drops as the mouth opens) read as pitch: with them the smiling astronaut
came out pitched 27-37 degrees down.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
from numpy.typing import NDArray

from altostratus.vision.faces.landmarks import Points
from altostratus.vision.results import Pose

# A generic face in millimetres, in camera axes for a face looking into the lens: x to the image's right, y down,
# z away from the camera, the nose tip at the origin. x and y are the mean of dlib's points on the frontal shared
# portraits and the astronaut, made symmetric and scaled to an 86.6 mm span between the outer eye corners;
# z are typical adult depths behind the nose tip.
MODEL_POINTS = np.array(
    [
        (0.0, -38.6, 18.0),  # 27 top of the nose bridge
        (0.0, 0.0, 0.0),  # 30 nose tip
        (-17.2, 6.8, 14.0),  # 31 nostril wing on the image's left
        (0.0, 11.9, 14.0),  # 33 below the nose
        (17.2, 6.8, 14.0),  # 35 the other nostril wing
        (-43.3, -34.8, 36.0),  # 36 outer corner of the eye on the image's left
        (-18.9, -34.3, 24.0),  # 39 its inner corner
        (18.9, -34.3, 24.0),  # 42 inner corner of the other eye
        (43.3, -34.8, 36.0),  # 45 its outer corner
    ],
    dtype=np.float64,
)
MODEL_INDICES = [27, 30, 31, 33, 35, 36, 39, 42, 45]
EYE_SPAN = MODEL_POINTS[8, 0] - MODEL_POINTS[5, 0]


def estimate_pose(points: Points, width: int, height: int) -> Pose:
    """Roll, yaw and pitch of a face from its 68 landmarks in an image of this size."""
    focal = float(max(width, height))
    camera = np.array([[focal, 0.0, width / 2.0], [0.0, focal, height / 2.0], [0.0, 0.0, 1.0]])
    image_points = np.ascontiguousarray(points[MODEL_INDICES], dtype=np.float64)
    # Start from a frontal face at the distance its eye span implies: without a guess the solver may settle on
    # the mirror solution (a face seen from behind, roll near 180).
    span = float(np.linalg.norm(image_points[8] - image_points[5])) or 1.0
    depth = focal * EYE_SPAN / span
    nose_x, nose_y = image_points[1]
    translation = np.array(
        [[(nose_x - width / 2.0) * depth / focal], [(nose_y - height / 2.0) * depth / focal], [depth]]
    )
    found, rotation_vector, position = cv2.solvePnP(
        MODEL_POINTS,
        image_points,
        camera,
        np.zeros(4),
        rvec=np.zeros((3, 1)),
        tvec=translation,
        useExtrinsicGuess=True,
        flags=cv2.SOLVEPNP_ITERATIVE,
    )
    if not found:
        return Pose(roll=0.0, yaw=0.0, pitch=0.0)
    rotation, _ = cv2.Rodrigues(rotation_vector)
    towards_lens = _undo_line_of_sight(np.asarray(position, dtype=np.float64).reshape(3))
    return angles(towards_lens @ np.asarray(rotation, dtype=np.float64))


def _undo_line_of_sight(position: NDArray[np.float64]) -> NDArray[np.float64]:
    """The smallest rotation taking the camera-to-face line onto the optical axis."""
    norm = float(np.linalg.norm(position))
    if norm == 0.0:
        return np.eye(3)
    sight = position / norm
    axis = np.cross(sight, np.array([0.0, 0.0, 1.0]))
    sine, cosine = float(np.linalg.norm(axis)), float(sight[2])
    if sine < 1e-12:
        return np.eye(3)
    rotation, _ = cv2.Rodrigues(axis / sine * math.atan2(sine, cosine))
    return np.asarray(rotation, dtype=np.float64)


def angles(rotation: NDArray[np.float64]) -> Pose:
    """The pose of a face whose model-to-camera rotation is `rotation` (3 x 3), in the module's conventions."""
    forward = rotation @ np.array([0.0, 0.0, -1.0])  # where the face looks, in camera axes
    across = rotation @ np.array([1.0, 0.0, 0.0])  # the face's own axis from the image-left eye to the other
    yaw = math.degrees(math.atan2(forward[0], -forward[2]))
    pitch = math.degrees(math.atan2(-forward[1], math.hypot(forward[0], forward[2])))
    roll = math.degrees(math.atan2(across[1], across[0]))
    return Pose(roll=_clamp(roll), yaw=_clamp(yaw), pitch=_clamp(pitch))


def _clamp(angle: float) -> float:
    return round(max(-180.0, min(180.0, angle)), 2)
