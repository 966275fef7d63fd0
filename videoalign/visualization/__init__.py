"""Visual results: labels and scores drawn on video frames, written as video files with OpenCV."""
from .video_labels import (FOURCC, VideoFileWriter, adaptive_font_scale, draw_text_lines, input_to_frames, parse_color,
                           resize_frame, score_lines, write_labelled_video, write_video)

__all__ = [
    'FOURCC', 'VideoFileWriter', 'adaptive_font_scale', 'draw_text_lines', 'input_to_frames', 'parse_color',
    'resize_frame', 'score_lines', 'write_labelled_video', 'write_video'
]
