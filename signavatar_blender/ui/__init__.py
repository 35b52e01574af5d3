"""What the user sees and sets: scene and window-manager properties, add-on preferences, the
N-panel and drag-and-drop file handlers. Operators are named by ``bl_idname`` only; nothing
here imports ``ops``.
"""
