"""Extra jieba words of the zh_core_web_sm test double, added when the package is imported.

The real model segments with pkuseg, which cuts some sentences differently
from the stand-in's jieba; these words make the double do the same to text2
(更加喜欢, 国产的) and fuse 苹果 into 苹果手机, so the book's code meets another
segmentation in its tests.
"""

import logging

import jieba

jieba.setLogLevel(logging.WARNING)  # the pages treat stderr as an error; jieba announces its dictionary there
for _word in ("更加喜欢", "国产的", "苹果手机"):
    jieba.add_word(_word, freq=100000)
