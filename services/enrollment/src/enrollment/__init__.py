"""The enrollment service: Programmes enabled per school, students, groups, person-student links, import and export."""
