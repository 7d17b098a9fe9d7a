"""Vision task: TFX module, preprocessing and the pixel challenger."""
