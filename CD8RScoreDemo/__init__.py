"""CD8RScoreDemo: the offline demonstration, which orchestrates the scoring (CD8RScoreLib) and the cohort
statistics (CD8RScoreCohortLib) and so sits above both. For research use only, not for clinical decisions.
"""
